// SPDX-License-Identifier: ISC
// DKIM tag=value lists (RFC 6376 §3.2), shared by DKIM-Signature, the ARC headers and key records.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "mail/result.hpp"

namespace arcf::mail {

struct Tag {
    std::string_view name;
    std::string_view value; ///< surrounding FWS removed; interior whitespace kept
};

/// A parsed tag-list. Views point into the text it was parsed from.
class TagList {
  public:
    /// Tag names are case-sensitive (RFC 6376 §3.2).
    std::optional<std::string_view> get(std::string_view name) const;
    bool has(std::string_view name) const { return get(name).has_value(); }
    const std::vector<Tag>& tags() const { return tags_; }

  private:
    friend Result<TagList> parse_tag_list(std::string_view text);
    std::vector<Tag> tags_;
};

/// RFC 6376 §3.2: tag-list = tag-spec *( ";" tag-spec ) [ ";" ]. Rejects duplicate tags, empty
/// specs (";;"), invalid tag names and values containing characters outside VALCHAR/FWS.
Result<TagList> parse_tag_list(std::string_view text);

/// Removes all FWS (SP, HTAB, CR, LF) from a value, e.g. for b=, bh= and p= (RFC 6376 §3.5).
std::string strip_fws(std::string_view v);

} // namespace arcf::mail
