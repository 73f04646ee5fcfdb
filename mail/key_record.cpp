// SPDX-License-Identifier: ISC
// RFC 6376 §3.6.1 key record parsing.
#include "mail/key_record.hpp"

#include <string>

#include "mail/base64.hpp"
#include "mail/tag_list.hpp"

namespace arcf::mail {

namespace {

// Colon-separated lists in h=, s=, t= (RFC 6376 §3.6.1), whitespace around items ignored.
template <class Fn>
void for_each_item(std::string_view list, Fn&& fn) {
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t c = list.find(':', pos);
        std::string_view item = list.substr(pos, c == std::string_view::npos ? list.npos : c - pos);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t' ||
                                 item.front() == '\r' || item.front() == '\n'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t' || item.back() == '\r' ||
                                 item.back() == '\n'))
            item.remove_suffix(1);
        fn(item);
        if (c == std::string_view::npos)
            break;
        pos = c + 1;
    }
}

} // namespace

Result<KeyRecord> parse_key_record(std::string_view txt, const KeyPolicy& policy) {
    // Our bound (KeyPolicy::max_record_bytes): no usable key record is this long.
    if (txt.size() > policy.max_record_bytes)
        return fail(Errc::key_too_large, "key record of " + std::to_string(txt.size()) +
                                             " bytes (at most " +
                                             std::to_string(policy.max_record_bytes) + ")");
    auto tags = parse_tag_list(txt);
    if (!tags)
        return tl::unexpected(tags.error());
    // v= is optional, but when present it MUST be the first tag and equal "DKIM1".
    if (auto v = tags->get("v")) {
        if (*v != "DKIM1")
            return fail(Errc::unsupported, "v= is not DKIM1");
        if (tags->tags().front().name != "v")
            return fail(Errc::syntax, "v= is not the first tag");
    }
    KeyType type = KeyType::rsa;
    if (auto k = tags->get("k")) {
        if (*k == "rsa")
            type = KeyType::rsa;
        else if (*k == "ed25519") // RFC 8463 §4.2
            type = KeyType::ed25519;
        else
            return fail(Errc::unsupported, "unknown key type k=" + std::string(*k));
    }
    if (auto h = tags->get("h")) {
        bool sha256 = false;
        for_each_item(*h, [&](std::string_view item) { sha256 = sha256 || item == "sha256"; });
        if (!sha256)
            return fail(Errc::unsupported, "h= does not allow sha256");
    }
    if (auto s = tags->get("s")) {
        bool email = false;
        for_each_item(
            *s, [&](std::string_view item) { email = email || item == "*" || item == "email"; });
        if (!email)
            return fail(Errc::unsupported, "s= excludes email");
    }
    KeyRecord rec;
    if (auto t = tags->get("t")) {
        for_each_item(*t, [&](std::string_view item) {
            if (item == "y")
                rec.testing = true;
            else if (item == "s")
                rec.strict_identity = true;
        });
    }
    auto p = tags->get("p");
    if (!p)
        return fail(Errc::missing_tag, "key record has no p=");
    std::string stripped = strip_fws(*p);
    if (stripped.empty())
        return fail(Errc::revoked, "key revoked (empty p=)");
    auto der = base64_decode(stripped);
    if (!der)
        return fail(Errc::bad_value, "p= is not base64");
    auto key = PublicKey::from_der(type, *der, policy);
    if (!key)
        return tl::unexpected(key.error());
    rec.key = std::move(*key);
    return rec;
}

std::vector<KeyRecord> parse_key_records(const std::vector<std::string>& records,
                                         const KeyPolicy& policy,
                                         Error* first_error) {
    std::vector<KeyRecord> out;
    bool have_error = false;
    // RFC 6376 §3.6.2.2: the verifier may choose which records to use; we take the first
    // max_key_records of the answer (0: all), so that a selector with many records cannot
    // multiply the verifications of every signature that names it.
    std::size_t count = records.size();
    if (policy.max_key_records != 0 && count > policy.max_key_records)
        count = policy.max_key_records;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string& r = records[i];
        auto rec = parse_key_record(r, policy);
        if (rec) {
            out.push_back(std::move(*rec));
        } else if (!have_error) {
            have_error = true;
            if (first_error != nullptr)
                *first_error = rec.error();
        }
    }
    return out;
}

} // namespace arcf::mail
