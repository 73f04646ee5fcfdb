// SPDX-License-Identifier: ISC
// TXT records from an RFC 1035 §5 master file, for `--dns-zone` and the test harnesses.
#pragma once

#include "dns/answer.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::dns {

/// Owner name (lower case, no trailing dot) -> TXT records (character-strings joined per RR).
class ZoneFile {
  public:
    /// Parses master-file text. Understands `$ORIGIN`, `$TTL`, comments, parentheses spanning
    /// lines, `@`, relative names, optional TTL and class, quoted strings with \" \\ and \DDD
    /// escapes. Records other than TXT are accepted and ignored. Returns false with a message
    /// naming the line on a syntax error.
    bool parse(std::string_view text, std::string& error);

    /// The answer a DNS server serving only this zone would give: ok with the records,
    /// nodata when the name owns other records only, nxdomain otherwise.
    TxtAnswer lookup(std::string_view name) const;

    std::size_t size() const { return txt_.size(); }

  private:
    std::map<std::string, std::vector<std::string>, std::less<>> txt_;
    std::map<std::string, bool, std::less<>> owners_;
};

} // namespace arcf::dns
