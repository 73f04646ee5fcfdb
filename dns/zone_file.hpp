// SPDX-License-Identifier: ISC
// Records from an RFC 1035 §5 master file (TXT, A, AAAA, MX, PTR), for `--dns-zone` and the test
// harnesses.
#pragma once

#include "dns/answer.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arcf::dns {

/// Owner name (lower case, no trailing dot) and type -> records in dns::Answer's text forms.
class ZoneFile {
  public:
    /// Parses master-file text. Understands `$ORIGIN`, `$TTL`, comments, parentheses spanning
    /// lines, `@`, relative names (also in MX and PTR data), optional TTL and class, quoted
    /// strings with \" \\ and \DDD escapes. TXT, A, AAAA, MX and PTR records are kept; other
    /// types are accepted and only make their owner exist. Returns false with a message naming
    /// the line on a syntax error (including an A/AAAA/MX/PTR record whose data does not parse).
    bool parse(std::string_view text, std::string& error);

    /// The answer a DNS server serving only this zone would give to a TXT query.
    Answer lookup(std::string_view name) const;
    /// ... and to a query of `type`: ok with the records, nodata when the name owns other
    /// records only, nxdomain otherwise.
    Answer lookup(RecordType type, std::string_view name) const;

    /// Owner names with TXT records.
    std::size_t size() const;

  private:
    using Key = std::pair<RecordType, std::string>;
    std::map<Key, std::vector<std::string>> records_;
    std::map<std::string, bool, std::less<>> owners_;
};

} // namespace arcf::dns
