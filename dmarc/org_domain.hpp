// SPDX-License-Identifier: ISC
// Organizational domains (RFC 7489 §3.2) from the Public Suffix List via libpsl, and identifier
// alignment (§3.1) on top of them.
#pragma once

#include "dmarc/result.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct psl_ctx_st;

namespace arcf::dmarc {

/// A loaded Public Suffix List. Copies share the list; lookups are pure and thread-compatible.
class OrgDomain {
  public:
    /// The newest of Debian's list (package publicsuffix,
    /// /usr/share/publicsuffix/public_suffix_list.dafsa) and libpsl's built-in copy
    /// (psl_latest), else the built-in one; with neither, an empty list (only the default rule
    /// "*", RFC 7489 §3.2 step 3, so the organizational domain is the last two labels).
    /// This reads the list file: load it once (at startup or reload) and share the copy.
    static OrgDomain system();
    /// A list file in PSL text or DAFSA form (psl_load_file); nullopt when it cannot be loaded.
    static std::optional<OrgDomain> load(const std::string& path);
    /// Only the default rule "*": the organizational domain is the last two labels.
    static OrgDomain empty();

    /// RFC 7489 §3.2: the public suffix of `domain` plus one label, lower case (ASCII), without
    /// a trailing dot. A domain that is itself a public suffix (or has one label), an IP
    /// address literal or an empty string is returned as is (lower-cased, no trailing dot).
    /// Pass A-labels (from_domain.hpp converts U-labels); U-labels are looked up as given.
    std::string organizational(std::string_view domain) const;

    /// Whether the list has any rule (false for empty()).
    bool loaded() const { return ctx_ != nullptr; }

  private:
    explicit OrgDomain(std::shared_ptr<const psl_ctx_st> ctx) : ctx_(std::move(ctx)) {}
    std::shared_ptr<const psl_ctx_st> ctx_;
};

/// `domain` lower-cased (ASCII only) without one trailing dot.
std::string normalize_domain(std::string_view domain);

/// RFC 7489 §3.1: strict mode needs the two domains equal (ignoring case and a trailing dot);
/// relaxed mode needs equal organizational domains (§3.1.1, §3.1.2). Empty never aligns.
bool aligned(std::string_view a, std::string_view b, Alignment mode, const OrgDomain& psl);

} // namespace arcf::dmarc
