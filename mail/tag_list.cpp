// SPDX-License-Identifier: ISC
// RFC 6376 §3.2 tag-list parser.
#include "mail/tag_list.hpp"

#include <algorithm>
#include <bit>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace arcf::mail {

namespace {

bool is_fws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// VALCHAR = %x21-3A / %x3C-7E; 8-bit bytes are let through for internationalised values
// (RFC 6376 §3.2 refers to RFC 5890 U-labels in d=/s= via RFC 8616).
bool is_valchar(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u >= 0x21 && u <= 0x7e && u != 0x3b) || u >= 0x80;
}

constexpr std::size_t long_list = 64;

// The index of the first byte at or after `i` that is not SP, HTAB or VALCHAR (so CR, LF or an
// invalid byte), sixteen bytes at a time; the last bytes of `v` (fewer than sixteen) are left
// to the caller's bytewise check. Long values (b=, bh=, p=) are mostly VALCHAR. Inlined, as
// trim_fws below: called for every tag of every signature, a call cost more than most of the
// work (issue 21).
[[gnu::always_inline]] inline std::size_t skip_plain(std::string_view v, std::size_t i) {
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(' '), ht = _mm_set1_epi8('\t'), semi = _mm_set1_epi8(';'),
                  del = _mm_set1_epi8(0x7f);
    for (; i + 16 <= v.size(); i += 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v.data() + i));
        // Unsigned x <= 0x20 (controls and SP), minus SP and HTAB; then ';' and DEL.
        const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, sp), x);
        const __m128i wsp = _mm_or_si128(_mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(x, ht));
        const __m128i bad =
            _mm_or_si128(_mm_andnot_si128(wsp, low),
                         _mm_or_si128(_mm_cmpeq_epi8(x, semi), _mm_cmpeq_epi8(x, del)));
        const auto m = static_cast<unsigned>(_mm_movemask_epi8(bad));
        if (m != 0)
            return i + static_cast<std::size_t>(std::countr_zero(m));
    }
#endif
    return i;
}

[[gnu::always_inline]] inline std::string_view trim_fws(std::string_view s) {
    while (!s.empty() && is_fws(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_fws(s.back()))
        s.remove_suffix(1);
    return s;
}

} // namespace

std::optional<std::string_view> TagList::get(std::string_view name) const {
    // Tag names are one or two letters: the length and the first byte settle nearly every
    // comparison without a call to memcmp (issue 21: a signature's tags are looked up about
    // forty times per message).
    for (const auto& t : tags_)
        if (t.name.size() == name.size() && (name.empty() || t.name[0] == name[0]) &&
            t.name == name)
            return t.value;
    return std::nullopt;
}

Result<TagList> parse_tag_list(std::string_view text) {
    TagList out;
    out.tags_.reserve(16); // an ARC-Seal has 6 tags, an AMS or DKIM-Signature up to about 12
    std::size_t pos = 0;
    bool first = true;
    while (true) {
        std::size_t semi = text.find(';', pos);
        std::string_view spec =
            text.substr(pos, semi == std::string_view::npos ? std::string_view::npos : semi - pos);
        std::string_view trimmed = trim_fws(spec);
        if (trimmed.empty()) {
            // Only the optional trailing ";" may leave an empty spec (or an entirely empty list).
            if (semi == std::string_view::npos &&
                (!first || text.find_first_not_of(" \t\r\n") == std::string_view::npos))
                break;
            return fail(Errc::syntax, "empty tag-spec");
        }
        std::size_t eq = trimmed.find('=');
        if (eq == std::string_view::npos)
            return fail(Errc::syntax, "tag without '='");
        std::string_view name = trim_fws(trimmed.substr(0, eq));
        std::string_view value = trim_fws(trimmed.substr(eq + 1));
        // tag-name = ALPHA *ALNUMPUNC (RFC 6376 §3.2), and also "-" after the first character:
        // a decision (issue 18 item 6, README "Conformance decisions"). Names such as x-trace=
        // in signatures and key records are extensions that dkimpy and Mail::DKIM accept; no
        // tag we read has a "-", so such a tag is unrecognized and ignored (§3.2: unrecognized
        // tags MUST be ignored) instead of failing a signature that is otherwise valid.
        if (name.empty() || !is_alpha(name[0]))
            return fail(Errc::syntax, "invalid tag name");
        for (char c : name)
            if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-')
                return fail(Errc::syntax, "invalid tag name " + std::string(name));
        // tag-value = [ tval *( 1*(WSP / FWS) tval ) ]; FWS inside must be followed by WSP.
        for (std::size_t i = skip_plain(value, 0); i < value.size(); i = skip_plain(value, i + 1)) {
            char c = value[i];
            if (c == '\r' || c == '\n') {
                if (c == '\r' && (i + 1 >= value.size() || value[i + 1] != '\n'))
                    return fail(Errc::syntax, "bare CR in the value of " + std::string(name) + "=");
                if (c == '\n' &&
                    (i + 1 >= value.size() || (value[i + 1] != ' ' && value[i + 1] != '\t')))
                    return fail(Errc::syntax, "line break not followed by WSP in the value of " +
                                                  std::string(name) + "=");
                continue;
            }
            if (c == ' ' || c == '\t')
                continue;
            if (!is_valchar(c))
                return fail(Errc::syntax,
                            "invalid character in the value of " + std::string(name) + "=");
        }
        // Short lists (every real one) are checked as they grow; long ones once, sorted, below:
        // a linear scan per tag would let one hostile 1 MB header cost O(n^2) CPU.
        if (out.tags_.size() < long_list && out.has(name))
            return fail(Errc::duplicate_tag, "duplicate tag " + std::string(name));
        out.tags_.push_back(Tag{name, value});
        first = false;
        if (semi == std::string_view::npos)
            break;
        pos = semi + 1;
        if (trim_fws(text.substr(pos)).empty())
            break; // trailing ";"
    }
    if (out.tags_.size() > long_list) {
        std::vector<std::string_view> names;
        names.reserve(out.tags_.size());
        for (const auto& t : out.tags_)
            names.push_back(t.name);
        std::sort(names.begin(), names.end());
        if (auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end())
            return fail(Errc::duplicate_tag, "duplicate tag " + std::string(*dup));
    }
    return out;
}

std::string strip_fws(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v)
        if (!is_fws(c))
            out.push_back(c);
    return out;
}

} // namespace arcf::mail
