// SPDX-License-Identifier: ISC
// Test-only ARC sealer (RFC 8617 §5.1) built from the core's primitives, to make chains to verify.
#include "tests/arc/chain_builder.hpp"

#include <stdexcept>
#include <vector>

#include "mail/base64.hpp"
#include "mail/header.hpp"
#include "mail/tag_list.hpp"
#include "text/ascii.hpp"

namespace arcf::tests {

namespace {

struct TagSpec {
    std::string name;
    std::string value;
};

std::string join_tags(const std::vector<TagSpec>& tags, bool fold) {
    std::string out;
    for (std::size_t i = 0; i < tags.size(); ++i) {
        if (i != 0)
            out += fold ? ";\r\n " : "; ";
        out += tags[i].name + "=" + tags[i].value;
    }
    return out;
}

std::string fold_base64(const std::string& b, bool fold) {
    if (!fold)
        return b;
    std::string out;
    for (std::size_t i = 0; i < b.size(); i += 60) {
        if (i != 0)
            out += "\r\n ";
        out += b.substr(i, 60);
    }
    return out;
}

std::vector<std::string> header_names(std::string_view list) {
    std::vector<std::string> names;
    std::size_t pos = 0;
    while (true) {
        std::size_t colon = list.find(':', pos);
        std::string_view item =
            list.substr(pos, colon == std::string_view::npos ? list.npos : colon - pos);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
            item.remove_suffix(1);
        names.push_back(text::to_lower(item));
        if (colon == std::string_view::npos)
            return names;
        pos = colon + 1;
    }
}

std::string sign_base64(const Signer& s, const std::string& data) {
    if (s.key == nullptr)
        throw std::runtime_error("chain_builder: no key for " + s.dns_name());
    auto sig = s.key->sign(mail::sha256(data));
    if (!sig)
        throw std::runtime_error("chain_builder: signing failed: " + sig.error().detail);
    return mail::base64_encode(*sig);
}

std::string algorithm_of(const Signer& s) {
    if (s.key == nullptr)
        throw std::runtime_error("chain_builder: no key for " + s.dns_name());
    return std::string(arc::to_string(s.key->algorithm()));
}

void replace_first(std::string& s, const std::string& from, const std::string& to) {
    auto pos = s.find(from);
    if (pos == std::string::npos)
        throw std::logic_error("chain_builder: no \"" + from + "\" to replace");
    s.replace(pos, from.size(), to);
}

// Index of tag `name` in `tags` (it must be there).
std::size_t index_of(const std::vector<TagSpec>& tags, std::string_view name) {
    for (std::size_t i = 0; i < tags.size(); ++i)
        if (tags[i].name == name)
            return i;
    throw std::logic_error("chain_builder: no tag " + std::string(name));
}

// The existing header field of `kind` with instance `i` (RFC 8617 §5.1.1 needs each of them).
const mail::HeaderField& find_arc_field(const std::vector<mail::HeaderField>& headers,
                                        arc::ArcHeaderKind kind,
                                        std::uint32_t i) {
    for (const auto& f : headers)
        if (arc::arc_header_kind(f.name()) == kind && arc::peek_instance(kind, f.value()) == i)
            return f;
    throw std::runtime_error("chain_builder: ARC set " + std::to_string(i) + " is incomplete");
}

} // namespace

std::string Signer::dns_name() const {
    return selector + "._domainkey." + domain;
}

std::string Signer::key_record() const {
    if (key == nullptr)
        throw std::runtime_error("chain_builder: no key for " + dns_name());
    return "v=DKIM1; k=" + std::string(arc::to_string(key->type())) +
           "; p=" + key->public_key_base64();
}

ArcSet make_arc_set(std::string_view message, const SealOptions& o) {
    auto split = mail::split_message(message);
    std::uint32_t newest = 0;
    for (const auto& f : split.headers) {
        auto kind = arc::arc_header_kind(f.name());
        if (kind == arc::ArcHeaderKind::none)
            continue;
        if (auto i = arc::peek_instance(kind, f.value()); i && *i > newest)
            newest = *i;
    }
    ArcSet set;
    set.instance = newest + 1;
    const std::string inst = std::to_string(set.instance);
    set.aar = "ARC-Authentication-Results: i=" + inst + "; " + o.aar_payload;
    for (const auto& [from, to] : o.aar_edits)
        replace_first(set.aar, from, to);

    // ARC-Message-Signature: DKIM-Signature rules (RFC 6376 §3.7, §5.4.2) with i= for the set.
    mail::BodyHasher body(o.body_canon, o.body_length);
    mail::for_each_line(split.body, [&](std::string_view line) { body.add_line(line); });
    const mail::Digest bh = body.finish();
    std::vector<TagSpec> ams = {
        {"a", algorithm_of(o.ams)},
        {"b", ""},
        {"bh", mail::base64_encode(
                   std::string_view(reinterpret_cast<const char*>(bh.data()), bh.size()))},
        {"c", std::string(arc::to_string(o.header_canon)) + "/" +
                  std::string(arc::to_string(o.body_canon))},
        {"d", o.ams.domain},
        {"h", o.signed_headers},
        {"i", inst},
    };
    if (o.body_length)
        ams.push_back({"l", std::to_string(*o.body_length)});
    ams.push_back({"s", o.ams.selector});
    if (o.timestamp)
        ams.push_back({"t", std::to_string(*o.timestamp)});
    if (o.expiration)
        ams.push_back({"x", std::to_string(*o.expiration)});

    // The headers as the verifier will see them: the new AAR on top of the message's own.
    std::vector<mail::HeaderField> visible;
    visible.emplace_back(set.aar);
    for (const auto& f : split.headers)
        visible.push_back(f);
    std::vector<bool> used(visible.size(), false);
    std::string data;
    for (const auto& name : header_names(o.signed_headers)) {
        for (std::size_t k = visible.size(); k-- > 0;) {
            if (!used[k] && !name.empty() && visible[k].is(name)) {
                used[k] = true;
                mail::append_canon_header(data, o.header_canon, visible[k].raw());
                break;
            }
        }
    }
    const std::string ams_template = "ARC-Message-Signature: " + join_tags(ams, o.fold);
    mail::append_canon_header(data, o.header_canon, ams_template, false);
    ams[index_of(ams, "b")].value = fold_base64(sign_base64(o.ams, data), o.fold);
    set.ams = "ARC-Message-Signature: " + join_tags(ams, o.fold);
    for (const auto& [from, to] : o.ams_edits)
        replace_first(set.ams, from, to);

    // ARC-Seal (RFC 8617 §5.1.1): every set 1..N, AAR, AMS, AS, relaxed; only the new set for
    // cv=fail (§5.1.2).
    std::vector<TagSpec> seal = {
        {"a", algorithm_of(o.seal)}, {"b", ""},   {"cv", std::string(arc::to_string(o.cv))},
        {"d", o.seal.domain},        {"i", inst}, {"s", o.seal.selector},
    };
    if (o.timestamp)
        seal.push_back({"t", std::to_string(*o.timestamp)});
    for (const auto& [name, value] : o.extra_seal_tags)
        seal.push_back({name, value});
    data.clear();
    if (o.cv != arc::Cv::fail) {
        for (std::uint32_t i = 1; i <= newest; ++i) {
            for (auto kind :
                 {arc::ArcHeaderKind::aar, arc::ArcHeaderKind::ams, arc::ArcHeaderKind::seal})
                mail::append_canon_header(data, mail::Canon::relaxed,
                                          find_arc_field(split.headers, kind, i).raw());
        }
    }
    mail::append_canon_header(data, mail::Canon::relaxed, set.aar);
    mail::append_canon_header(data, mail::Canon::relaxed, set.ams);
    const std::string seal_template = "ARC-Seal: " + join_tags(seal, o.fold);
    mail::append_canon_header(data, mail::Canon::relaxed, seal_template, false);
    seal[index_of(seal, "b")].value = fold_base64(sign_base64(o.seal, data), o.fold);
    set.seal = "ARC-Seal: " + join_tags(seal, o.fold);
    return set;
}

std::string seal_message(std::string_view message, const SealOptions& o) {
    ArcSet set = make_arc_set(message, o);
    return set.seal + "\r\n" + set.ams + "\r\n" + set.aar + "\r\n" + std::string(message);
}

std::string b_value(std::string_view field) {
    auto colon = field.find(':');
    if (colon == std::string_view::npos)
        return {};
    auto tags = mail::parse_tag_list(field.substr(colon + 1));
    if (!tags || !tags->has("b"))
        return {};
    return mail::strip_fws(*tags->get("b"));
}

} // namespace arcf::tests
