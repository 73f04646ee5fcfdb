// SPDX-License-Identifier: ISC
// RFC 6376 §3.6.1 key record parsing.
#include "mail/key_record.hpp"

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

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

// Parsed key records by their text, per process (issue 21: a warm key costs no tag-list
// parsing, base64 or DER decoding per message). Only records that parsed are kept, and the
// policy's checks are applied again on every use (parse_key_record), so a record parsed under
// one KeyPolicy is never accepted under a stricter one. Bounded: at most max_entries records of
// at most max_text bytes each (256 KiB of text); when full, an arbitrary entry makes room (a
// hostile stream of distinct records costs a parse each, as without the cache).
class ParsedRecordCache {
  public:
    static constexpr std::size_t max_entries = 256;
    static constexpr std::size_t max_text = 1024; // an RSA-4096 record is about 800 bytes

    std::optional<KeyRecord> find(std::string_view txt) {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = map_.find(txt);
        if (it == map_.end())
            return std::nullopt;
        return it->second;
    }

    void insert(std::string_view txt, const KeyRecord& rec) {
        if (txt.size() > max_text)
            return;
        std::lock_guard<std::mutex> lock(mu_);
        if (map_.size() >= max_entries)
            map_.erase(map_.begin());
        map_.emplace(std::string(txt), rec);
    }

  private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::mutex mu_;
    std::unordered_map<std::string, KeyRecord, Hash, std::equal_to<>> map_;
};

ParsedRecordCache& record_cache() {
    static ParsedRecordCache cache;
    return cache;
}

// The checks of `policy` that depend on the policy and not on the record's text alone: the RSA
// key size (RFC 8301 §3.2), as PublicKey::from_der applies them.
std::optional<Error> size_problem(const KeyRecord& rec, const KeyPolicy& policy) {
    if (rec.key.type() != KeyType::rsa)
        return std::nullopt;
    if (rec.key.bits() < policy.min_rsa_bits)
        return Error{Errc::key_too_small, std::to_string(rec.key.bits()) + "-bit RSA key"};
    if (rec.key.bits() > policy.max_rsa_bits)
        return Error{Errc::key_too_large, std::to_string(rec.key.bits()) + "-bit RSA key"};
    return std::nullopt;
}

Result<KeyRecord> parse_uncached(std::string_view txt, const KeyPolicy& policy);

} // namespace

Result<KeyRecord> parse_key_record(std::string_view txt, const KeyPolicy& policy) {
    // Our bound (KeyPolicy::max_record_bytes): no usable key record is this long.
    if (txt.size() > policy.max_record_bytes)
        return fail(Errc::key_too_large, "key record of " + std::to_string(txt.size()) +
                                             " bytes (at most " +
                                             std::to_string(policy.max_record_bytes) + ")");
    if (auto hit = record_cache().find(txt)) {
        if (auto bad = size_problem(*hit, policy))
            return tl::unexpected(*bad);
        return std::move(*hit);
    }
    auto rec = parse_uncached(txt, policy);
    if (rec)
        record_cache().insert(txt, *rec);
    return rec;
}

namespace {

Result<KeyRecord> parse_uncached(std::string_view txt, const KeyPolicy& policy) {
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

} // namespace

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
