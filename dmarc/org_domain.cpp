// SPDX-License-Identifier: ISC
// Organizational domain lookup (RFC 7489 §3.2) with libpsl, and alignment (§3.1).
#include "dmarc/org_domain.hpp"

#include <algorithm>
#include <libpsl.h>

#include "text/ascii.hpp"

namespace arcf::dmarc {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// A dotted-quad IPv4 address, anything with ':' (IPv6) or a bracketed literal: not a domain,
// so it has no organizational domain but itself.
bool is_ip_literal(std::string_view d) {
    if (d.empty())
        return false;
    if (d.front() == '[' || d.find(':') != std::string_view::npos)
        return true;
    int dots = 0;
    for (char c : d) {
        if (c == '.')
            ++dots;
        else if (!is_digit(c))
            return false;
    }
    return dots == 3;
}

std::shared_ptr<const psl_ctx_st> own(psl_ctx_t* ctx) {
    return std::shared_ptr<const psl_ctx_st>(ctx, [](const psl_ctx_st* p) {
        // psl_free() ignores the built-in list; the cast only restores what psl_load_* gave.
        psl_free(const_cast<psl_ctx_st*>(p));
    });
}

// The built-in list is static data inside libpsl: never freed.
std::shared_ptr<const psl_ctx_st> borrow(const psl_ctx_t* ctx) {
    return ctx == nullptr ? nullptr
                          : std::shared_ptr<const psl_ctx_st>(ctx, [](const psl_ctx_st*) {});
}

// The last two labels: the PSL default rule "*" plus one label (RFC 7489 §3.2 step 3, 4).
std::string last_two_labels(const std::string& d) {
    auto last = d.rfind('.');
    if (last == std::string::npos || last == 0)
        return d;
    auto before = d.rfind('.', last - 1);
    return before == std::string::npos ? d : d.substr(before + 1);
}

} // namespace

std::string normalize_domain(std::string_view domain) {
    return text::to_lower(text::without_root_dot(domain));
}

OrgDomain OrgDomain::system() {
    if (psl_ctx_t* latest = psl_latest(nullptr))
        return OrgDomain(own(latest));
    return OrgDomain(borrow(psl_builtin()));
}

std::optional<OrgDomain> OrgDomain::load(const std::string& path) {
    psl_ctx_t* ctx = psl_load_file(path.c_str());
    if (ctx == nullptr)
        return std::nullopt;
    return OrgDomain(own(ctx));
}

OrgDomain OrgDomain::empty() {
    return OrgDomain(nullptr);
}

std::string OrgDomain::organizational(std::string_view domain) const {
    std::string d = normalize_domain(domain);
    if (d.empty() || is_ip_literal(d) || d.find('\0') != std::string::npos)
        return d;
    if (!ctx_)
        return last_two_labels(d);
    // RFC 7489 §3.2 steps 3-4: the longest matching public suffix plus one label. NULL means
    // `d` is itself a public suffix (or not a valid name), which is its own org domain.
    const char* reg = psl_registrable_domain(ctx_.get(), d.c_str());
    return reg == nullptr ? d : std::string(reg);
}

bool aligned(std::string_view a, std::string_view b, Alignment mode, const OrgDomain& psl) {
    std::string na = normalize_domain(a);
    std::string nb = normalize_domain(b);
    if (na.empty() || nb.empty())
        return false;
    if (na == nb)
        return true;
    // §3.1.1/§3.1.2: relaxed mode accepts a shared Organizational Domain.
    return mode == Alignment::relaxed && psl.organizational(na) == psl.organizational(nb);
}

} // namespace arcf::dmarc
