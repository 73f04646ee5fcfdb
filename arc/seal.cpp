// SPDX-License-Identifier: ISC
// RFC 8617 §5.1 sealer: AAR, AMS and AS for instance N+1.
#include "arc/seal.hpp"

#include "arc/arc_headers.hpp"

#include <algorithm>

#include "mail/base64.hpp"
#include "text/ascii.hpp"

namespace arcf::arc {

namespace {

constexpr std::size_t fold_width = 78;
constexpr std::size_t b64_chunk = 64;

std::string b64(const Digest& d) {
    return base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::size_t signature_b64_length(const PrivateKey& k) {
    std::size_t bytes = k.type() == KeyType::ed25519 ? 64 : (k.bits() + 7) / 8;
    return (bytes + 2) / 3 * 4;
}

// "b=" + value, split into chunks that may be folded between (RFC 6376 §3.5: FWS in b=).
void add_b_tokens(std::vector<FoldToken>& tokens, const std::string& value, bool last) {
    for (std::size_t i = 0; i < value.size() || i == 0; i += b64_chunk) {
        std::string piece = value.substr(i, b64_chunk);
        bool is_last = i + b64_chunk >= value.size();
        if (is_last && !last)
            piece += ";";
        if (i == 0)
            tokens.push_back(FoldToken{"b=" + piece, true});
        else
            tokens.push_back(FoldToken{piece, false});
        if (value.empty())
            break;
    }
}

struct Tag {
    std::string name;
    std::string value;
};

// Builds the field with the given tags; b= gets `b_value`. Production layout keeps the tag
// order given (i= first, RFC 8617 §4.1.2/§4.1.3 ABNF) with b= last; the standardized layout
// sorts the tags and writes one line (ARC test suite §2.3).
std::string layout(std::string_view name,
                   std::vector<Tag> tags,
                   const std::string& b_value,
                   bool standardized) {
    if (standardized) {
        tags.push_back(Tag{"b", b_value});
        std::sort(tags.begin(), tags.end(),
                  [](const Tag& a, const Tag& b) { return a.name < b.name; });
        std::string out = std::string(name) + ": ";
        for (std::size_t i = 0; i < tags.size(); ++i)
            out += (i ? "; " : "") + tags[i].name + "=" + tags[i].value;
        return out;
    }
    std::vector<FoldToken> tokens;
    for (const auto& t : tags) {
        if (t.name == "h") {
            // Fold between header names if needed (FWS is allowed around ':', RFC 6376 §3.5).
            std::size_t pos = 0;
            bool first = true;
            while (pos <= t.value.size()) {
                std::size_t c = t.value.find(':', pos);
                std::string item = t.value.substr(pos, c == std::string::npos ? c : c - pos + 1);
                tokens.push_back(FoldToken{
                    (first ? "h=" : "") + item + (c == std::string::npos ? ";" : ""), first});
                first = false;
                if (c == std::string::npos)
                    break;
                pos = c + 1;
            }
            continue;
        }
        tokens.push_back(FoldToken{t.name + "=" + t.value + ";", true});
    }
    add_b_tokens(tokens, b_value, true);
    return fold_field(name, tokens);
}

// Computes the b= value for a field whose hash input is `prefix` + the canonical field with an
// empty b=, and returns the finished field. Layout depends only on the signature's length, so
// the text signed (with b= emptied) is exactly the text emitted.
Result<std::string> sign_field(std::string_view name,
                               const std::vector<Tag>& tags,
                               std::string prefix,
                               Canon canon,
                               const SealKey& key,
                               bool standardized) {
    std::string placeholder(signature_b64_length(key.key), 'A');
    std::string draft = layout(name, tags, placeholder, standardized);
    append_canon_header(prefix, canon, strip_b_value(draft), false);
    auto sig = key.key.sign(sha256(prefix));
    if (!sig)
        return tl::unexpected(sig.error());
    std::string value = base64_encode(*sig);
    if (value.size() != placeholder.size())
        return fail(Errc::crypto, "unexpected signature length");
    return layout(name, tags, value, standardized);
}

bool is_arc_header(std::string_view n) {
    return arc_header_kind(n) != ArcHeaderKind::none;
}

std::vector<std::string> h_list(const std::vector<HeaderField>& headers, const SealOptions& opts) {
    std::vector<std::string> out;
    if (opts.standardized) {
        for (const auto& n : opts.signed_headers)
            out.push_back(text::to_lower(n));
        return out;
    }
    auto add = [&](const std::string& lname) {
        if (is_arc_header(lname) || std::find(out.begin(), out.end(), lname) != out.end())
            return;
        std::size_t count = 0;
        for (const auto& h : headers)
            if (h.is(lname))
                ++count;
        if (count == 0)
            return; // never sign an absent header: smtpd may add Date/Message-ID later
        // A bounded h= (max_signed_fields): the names come first in configured order, and a
        // name listed fewer times than it occurs signs its bottom-most instances (RFC 6376
        // §5.4.2), which a verifier selects the same way.
        for (std::size_t i = 0; i < count + (opts.oversign ? 1 : 0); ++i) {
            if (out.size() >= max_signed_fields)
                return;
            out.push_back(lname);
        }
    };
    for (const auto& configured : opts.signed_headers) {
        std::string n = text::to_lower(configured);
        if (n.size() > 1 && n.back() == '*') {
            std::string prefix = n.substr(0, n.size() - 1);
            for (const auto& h : headers) {
                std::string hn = text::to_lower(h.name());
                // Only RFC 5322 field names (printable ASCII) that can stand in a tag value:
                // ';' is ftext but ends a tag (RFC 6376 §3.2), so "List-I;d" would make our
                // own h= unparseable; ':' separates the names.
                bool ftext = std::all_of(hn.begin(), hn.end(), [](char c) {
                    return static_cast<unsigned char>(c) > 32 &&
                           static_cast<unsigned char>(c) < 127 && c != ';' && c != ':';
                });
                // A name longer than max_signed_name is not one a list uses (RFC 2369/2919
                // names are short); it would make one h= word longer than a line.
                if (!hn.empty() && hn.size() <= max_signed_name && ftext &&
                    hn.rfind(prefix, 0) == 0)
                    add(hn);
            }
        } else {
            add(n);
        }
    }
    return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i)
        out += (i ? std::string(sep) : std::string()) + v[i];
    return out;
}

} // namespace

std::vector<std::string> default_signed_headers() {
    return {"from",         "to",
            "cc",           "subject",
            "date",         "message-id",
            "reply-to",     "in-reply-to",
            "references",   "mime-version",
            "content-type", "content-transfer-encoding",
            "list-*",       "dkim-signature"};
}

std::vector<ResInfo> trusted_results(const std::vector<HeaderField>& headers,
                                     const std::vector<std::string>& ids,
                                     bool include_arc) {
    std::vector<ResInfo> out;
    for (const auto& h : headers) {
        if (!h.is("authentication-results"))
            continue;
        auto ar = parse_authentication_results(h.value());
        if (!ar || ar->authserv_id.empty())
            continue;
        bool trusted = std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
            return text::iequals(id, ar->authserv_id);
        });
        if (!trusted)
            continue;
        for (auto& r : ar->results)
            if (include_arc || r.method != "arc")
                out.push_back(std::move(r));
    }
    return out;
}

std::string fold_field(std::string_view name, const std::vector<FoldToken>& tokens) {
    std::string out = std::string(name) + ":";
    std::size_t line_len = out.size();
    bool line_has_token = false; // a fold before a line's first token would leave it blank
    for (const auto& t : tokens) {
        std::size_t need = t.text.size() + (t.space_before ? 1 : 0);
        if (line_len + need > fold_width && line_has_token) {
            out += "\r\n\t";
            line_len = 1;
        } else if (t.space_before) {
            out += ' ';
            ++line_len;
        }
        out += t.text;
        line_len += t.text.size();
        line_has_token = true;
    }
    return out;
}

SealResult seal_message(const std::vector<HeaderField>& headers,
                        const Digest& body_hash,
                        const ChainResult& chain,
                        const std::vector<ResInfo>& results,
                        const SealKey& key,
                        const SealOptions& opts) {
    SealResult out;
    // RFC 8617 §5.1: never turn a temporary failure into a seal; never extend a chain whose
    // newest seal says cv=fail; at most 50 sets (§4.2.1).
    if (chain.status == ChainStatus::temperror) {
        out.reason = "not sealed: chain verdict is temperror";
        return out;
    }
    if (chain.ended) {
        out.reason = "not sealed: the chain already ended with cv=fail";
        return out;
    }
    if (chain.sets >= max_instance) {
        out.reason = "not sealed: the chain already has 50 sets";
        return out;
    }
    const std::uint32_t n = chain.sets + 1;
    out.instance = n;
    out.cv = chain.status == ChainStatus::pass   ? Cv::pass
             : chain.status == ChainStatus::none ? Cv::none
                                                 : Cv::fail;
    if (chain.sets == 0 && out.cv != Cv::fail)
        out.cv = Cv::none;
    const std::string inst = std::to_string(n);
    const std::string t = std::to_string(opts.now);
    const std::string alg(to_string(key.key.algorithm()));

    // ARC-Authentication-Results (RFC 8617 §4.1.1): i=N; authserv-id; results, within the
    // write budgets (auth_results.hpp: no line over 998 octets, a bounded total).
    std::vector<std::string> res_text;
    if (opts.standardized) {
        for (const auto& r : results)
            res_text.push_back(r.raw);
    } else {
        WriteStats ws;
        res_text = format_results(results, &ws);
        out.values_omitted = ws.values_omitted;
        out.results_omitted = ws.results_omitted;
    }
    std::string id = format_value(opts.authserv_id);
    std::string aar_value =
        "i=" + inst + "; " + id +
        (res_text.empty() ? std::string("; none") : "; " + join(res_text, "; "));
    // The standardized layout is one line; ours is folded between the words of the results
    // (never inside a quoted-string or a comment), so long results (several dkim= with header.b,
    // a dmarc reason) stay near 78 columns (RFC 5322 §2.1.1); the seal covers it in relaxed form,
    // where folding does not count.
    std::string aar = opts.standardized
                          ? "ARC-Authentication-Results: " + aar_value
                          : fold_results_field("ARC-Authentication-Results", aar_value);

    // ARC-Message-Signature (RFC 8617 §4.1.2): DKIM-style over the chosen headers and body.
    auto names = h_list(headers, opts);
    std::string ams_input;
    {
        std::vector<bool> used(headers.size(), false);
        for (const auto& nm : names) {
            for (std::size_t k = headers.size(); k-- > 0;) {
                if (used[k] || !headers[k].is(nm))
                    continue;
                used[k] = true;
                append_canon_header(ams_input, opts.header_canon, headers[k].raw());
                break;
            }
        }
    }
    std::vector<Tag> ams_tags{{"i", inst},
                              {"a", alg},
                              {"c", std::string(to_string(opts.header_canon)) + "/" +
                                        std::string(to_string(opts.body_canon))},
                              {"d", key.domain},
                              {"s", key.selector},
                              {"t", t},
                              {"h", join(names, ":")},
                              {"bh", b64(body_hash)}};
    auto ams = sign_field("ARC-Message-Signature", ams_tags, ams_input, opts.header_canon, key,
                          opts.standardized);
    if (!ams) {
        out.reason = "not sealed: " + ams.error().detail;
        return out;
    }

    // ARC-Seal (RFC 8617 §4.1.3, §5.1.1): every set in order, relaxed; a cv=fail seal covers
    // only its own set (§5.1.2).
    std::string as_input;
    if (out.cv != Cv::fail) {
        std::vector<const HeaderField*> aars(n, nullptr), amss(n, nullptr), seals(n, nullptr);
        for (const auto& h : headers) {
            auto kind = arc_header_kind(h.name());
            if (kind == ArcHeaderKind::none)
                continue;
            auto i = peek_instance(kind, h.value());
            if (!i || *i >= n)
                continue;
            auto& slot = kind == ArcHeaderKind::aar   ? aars
                         : kind == ArcHeaderKind::ams ? amss
                                                      : seals;
            slot[*i - 1] = &h;
        }
        for (std::uint32_t i = 1; i < n; ++i) {
            if (!aars[i - 1] || !amss[i - 1] || !seals[i - 1]) {
                out.reason = "not sealed: ARC set " + std::to_string(i) + " is incomplete";
                return out;
            }
            append_canon_header(as_input, Canon::relaxed, aars[i - 1]->raw());
            append_canon_header(as_input, Canon::relaxed, amss[i - 1]->raw());
            append_canon_header(as_input, Canon::relaxed, seals[i - 1]->raw());
        }
    }
    append_canon_header(as_input, Canon::relaxed, aar);
    append_canon_header(as_input, Canon::relaxed, *ams);
    std::vector<Tag> as_tags{{"i", inst},       {"a", alg},
                             {"t", t},          {"cv", std::string(to_string(out.cv))},
                             {"d", key.domain}, {"s", key.selector}};
    auto as = sign_field("ARC-Seal", as_tags, as_input, Canon::relaxed, key, opts.standardized);
    if (!as) {
        out.reason = "not sealed: " + as.error().detail;
        return out;
    }
    out.sealed = true;
    out.fields = {*as, *ams, aar};
    out.reason = "sealed i=" + inst + " cv=" + std::string(to_string(out.cv));
    return out;
}

} // namespace arcf::arc
