// SPDX-License-Identifier: ISC
#include "filter/pipeline/stats.hpp"

#include "filter/pipeline/message.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <vector>

#include "text/ascii.hpp"

namespace arcf::pipeline {

namespace {

// clang-format off
constexpr std::array<CounterFamily, 12> families_table{{
    {"messages", "", "filter_arc_messages_total", "Messages handled."},
    {"arc", "result", "filter_arc_arc_results_total", "ARC chain verdicts (RFC 8617 section 5.2)."},
    {"seal", "outcome", "filter_arc_seal_total", "Seal decisions: sealed, or why a message was not sealed."},
    {"action", "action", "filter_arc_actions_total", "What happened to messages: deliver, defer or reject."},
    {"deferred", "reason", "filter_arc_deferred_total", "Deferred messages by reason."},
    {"dns_temporary", "", "filter_arc_dns_temporary_failures_total", "Messages with a temporary DNS failure (ARC, SPF, DKIM or DMARC temperror, or the DNS deadline)."},
    {"forged_ar_removed", "", "filter_arc_forged_ar_removed_total", "Forged Authentication-Results fields removed (RFC 8601 section 5)."},
    {"spf", "result", "filter_arc_spf_results_total", "SPF results (RFC 7208 section 2.6)."},
    {"dkim", "result", "filter_arc_dkim_results_total", "DKIM signature results (RFC 6376 section 6.1), one per signature."},
    {"dmarc", "result", "filter_arc_dmarc_results_total", "DMARC results (RFC 7489 section 11.2)."},
    {"dmarc_fail_arc_pass", "", "filter_arc_dmarc_fail_arc_pass_total", "Messages whose DMARC failed while their ARC chain passed."},
    {"dmarc_arc_override", "", "filter_arc_dmarc_arc_overrides_total", "DMARC failures overridden on a trusted sealer's word (RFC 8617 section 7.2.1)."},
}};

struct SealerField {
    std::string_view name;
    std::uint64_t SealerCounts::*member;
    std::string_view metric;
    std::string_view help;
};
constexpr std::array<SealerField, 6> sealer_fields{{
    {"messages", &SealerCounts::messages, "filter_arc_sealer_messages_total", "Messages whose newest ARC set is this sealer's."},
    {"chain_pass", &SealerCounts::chain_pass, "filter_arc_sealer_chain_pass_total", "Of those, chains that passed."},
    {"chain_fail", &SealerCounts::chain_fail, "filter_arc_sealer_chain_fail_total", "Of those, chains that failed."},
    {"dmarc_fail_arc_pass", &SealerCounts::dmarc_fail_arc_pass, "filter_arc_sealer_dmarc_fail_arc_pass_total", "Of those, DMARC failed while the chain passed."},
    {"dmarc_rescued", &SealerCounts::dmarc_rescued, "filter_arc_sealer_dmarc_rescued_total", "Of those, the sealer's AAR vouched for the author domain: trusting it overrides the DMARC failure."},
    {"dmarc_overridden", &SealerCounts::dmarc_overridden, "filter_arc_sealer_dmarc_overridden_total", "Of those, overridden because the sealer is trusted."},
}};
// clang-format on

const CounterFamily* family(std::string_view name) {
    for (const auto& f : families_table)
        if (f.name == name)
            return &f;
    return nullptr;
}

// JSON strings (RFC 8259 §7). The values written are our own words and domain names, but the
// writer escapes every byte that needs it anyway.
void json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
}

// A label value of the exposition format: backslash, double quote and line feed escaped.
std::string prom_label(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void prom_head(std::string& out,
               std::string_view metric,
               std::string_view help,
               std::string_view type) {
    out.append("# HELP ").append(metric).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(metric).append(" ").append(type).append("\n");
}

// A strict reader of the JSON subset to_json() writes: objects, strings, unsigned integers.
class Reader {
  public:
    explicit Reader(std::string_view t) : t_(t) {}

    void ws() {
        while (p_ < t_.size() &&
               (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\t' || t_[p_] == '\r'))
            ++p_;
    }
    bool peek(char c) {
        ws();
        return p_ < t_.size() && t_[p_] == c;
    }
    bool eat(char c) {
        if (!peek(c))
            return false;
        ++p_;
        return true;
    }
    bool at_end() {
        ws();
        return p_ == t_.size();
    }
    std::size_t pos() const { return p_; }

    std::optional<std::string> string() {
        if (!eat('"'))
            return std::nullopt;
        std::string s;
        while (p_ < t_.size()) {
            char c = t_[p_++];
            if (c == '"')
                return s;
            if (static_cast<unsigned char>(c) < 0x20)
                return std::nullopt;
            if (c != '\\') {
                s += c;
                continue;
            }
            if (p_ >= t_.size())
                return std::nullopt;
            char e = t_[p_++];
            switch (e) {
            case '"':
            case '\\':
            case '/':
                s += e;
                break;
            case 'n':
                s += '\n';
                break;
            case 't':
                s += '\t';
                break;
            case 'r':
                s += '\r';
                break;
            case 'u': {
                if (p_ + 4 > t_.size())
                    return std::nullopt;
                unsigned v = 0;
                for (int i = 0; i < 4; ++i) {
                    char h = t_[p_++];
                    v <<= 4;
                    if (h >= '0' && h <= '9')
                        v |= static_cast<unsigned>(h - '0');
                    else if (h >= 'a' && h <= 'f')
                        v |= static_cast<unsigned>(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F')
                        v |= static_cast<unsigned>(h - 'A' + 10);
                    else
                        return std::nullopt;
                }
                if (v > 0xff)
                    return std::nullopt; // we only ever write bytes
                s += static_cast<char>(v);
                break;
            }
            default:
                return std::nullopt;
            }
        }
        return std::nullopt;
    }

    std::optional<std::uint64_t> number() {
        ws();
        std::size_t start = p_;
        std::uint64_t v = 0;
        while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') {
            auto d = static_cast<std::uint64_t>(t_[p_] - '0');
            if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
                return std::nullopt;
            v = v * 10 + d;
            ++p_;
        }
        if (p_ == start || (p_ - start > 1 && t_[start] == '0'))
            return std::nullopt;
        return v;
    }

    // `{ "key": <each>, ... }`: calls each(key) for every member; false on any error.
    template <typename F>
    bool object(F&& each) {
        if (!eat('{'))
            return false;
        if (eat('}'))
            return true;
        do {
            auto key = string();
            if (!key || !eat(':') || !each(*key))
                return false;
        } while (eat(','));
        return eat('}');
    }

  private:
    std::string_view t_;
    std::size_t p_ = 0;
};

} // namespace

const CounterFamily* counter_families(std::size_t& count) {
    count = families_table.size();
    return families_table.data();
}

void SealerCounts::add(const SealerCounts& o) {
    for (const auto& f : sealer_fields)
        this->*f.member += o.*f.member;
}

SealerCounts& Stats::sealer(std::string_view name) {
    // An attacker chooses d=: the table holds max_sealers names at most; the rest, and any d=
    // that is not a domain name, are counted together (README "Statistics").
    std::string key = text::to_lower(name);
    if (key.empty() || key.size() > 253 || !text::is_domain_name(key))
        key = std::string(other_sealers);
    auto it = sealers_.find(key);
    if (it != sealers_.end())
        return it->second;
    const std::size_t named = sealers_.size() - (sealers_.count(other_sealers) != 0 ? 1 : 0);
    if (key != other_sealers && named >= max_sealers_)
        key = std::string(other_sealers);
    return sealers_[key];
}

void Stats::record(const Outcome& o) {
    add("messages", "", 1);
    add("arc", arc::to_string(o.chain.status), 1);
    add("seal", to_string(o.seal), 1);
    add("action", to_string(o.disposition), 1);
    if (o.disposition == Disposition::defer)
        add("deferred", to_string(o.seal), 1);
    const Facts& f = o.facts;
    add("dns_temporary", "", f.dns_temporary ? 1 : 0);
    add("forged_ar_removed", "", f.forged_removed);
    if (!f.spf.empty())
        add("spf", f.spf, 1);
    for (const auto& d : f.dkim)
        add("dkim", d, 1);
    if (!f.dmarc.empty())
        add("dmarc", f.dmarc, 1);
    const bool pass = o.chain.status == arc::ChainStatus::pass;
    const bool dmarc_fail_arc_pass = pass && f.dmarc == "fail";
    add("dmarc_fail_arc_pass", "", dmarc_fail_arc_pass ? 1 : 0);
    add("dmarc_arc_override", "", f.dmarc_overridden ? 1 : 0);
    if (o.chain.chain.empty())
        return; // no valid structure: no sealer we could name
    SealerCounts& s = sealer(o.chain.chain.back().seal_domain);
    ++s.messages;
    s.chain_pass += pass ? 1 : 0;
    s.chain_fail += o.chain.status == arc::ChainStatus::fail ? 1 : 0;
    s.dmarc_fail_arc_pass += dmarc_fail_arc_pass ? 1 : 0;
    s.dmarc_rescued += dmarc_fail_arc_pass && f.dmarc_vouched ? 1 : 0;
    s.dmarc_overridden += f.dmarc_overridden ? 1 : 0;
}

void Stats::record_failure(std::string_view reason) {
    add("messages", "", 1);
    add("action", "defer", 1);
    add("deferred", reason, 1);
}

void Stats::merge(const Stats& o) {
    for (const auto& [fam, labels] : o.families_)
        for (const auto& [label, n] : labels)
            add(fam, label, n);
    for (const auto& [name, c] : o.sealers_)
        add_sealer(name, c);
}

std::uint64_t Stats::count(std::string_view fam, std::string_view label) const {
    auto f = families_.find(fam);
    if (f == families_.end())
        return 0;
    auto l = f->second.find(std::string(label));
    return l == f->second.end() ? 0 : l->second;
}

bool Stats::add(std::string_view fam, std::string_view label, std::uint64_t n) {
    const CounterFamily* f = family(fam);
    if (f == nullptr || f->label.empty() != label.empty())
        return false;
    auto& slot = families_[std::string(fam)][std::string(label)];
    // Counters saturate instead of wrapping (a merged file of a long life must not go back).
    slot = n > std::numeric_limits<std::uint64_t>::max() - slot
               ? std::numeric_limits<std::uint64_t>::max()
               : slot + n;
    return true;
}

void Stats::add_sealer(std::string_view name, const SealerCounts& c) {
    sealer(name).add(c);
}

std::string to_json(const Stats& s, const StatsMeta& meta) {
    std::string out = "{\"format\":\"filter-arc-stats\",\"version\":1,\"mode\":";
    json_string(out, meta.mode);
    out += ",\"started\":" + std::to_string(meta.started);
    out += ",\"written\":" + std::to_string(meta.written);
    out += ",\n\"counters\":{";
    bool first = true;
    for (const auto& f : families_table) {
        out += first ? "\n" : ",\n";
        first = false;
        json_string(out, f.name);
        out += ':';
        if (f.label.empty()) {
            out += std::to_string(s.count(f.name));
            continue;
        }
        out += '{';
        auto it = s.families().find(f.name);
        bool first_label = true;
        if (it != s.families().end())
            for (const auto& [label, n] : it->second) {
                if (!first_label)
                    out += ',';
                first_label = false;
                json_string(out, label);
                out += ':' + std::to_string(n);
            }
        out += '}';
    }
    out += "},\n\"sealers\":{";
    first = true;
    for (const auto& [name, c] : s.sealers()) {
        out += first ? "\n" : ",\n";
        first = false;
        json_string(out, name);
        out += ":{";
        bool first_field = true;
        for (const auto& f : sealer_fields) {
            if (!first_field)
                out += ',';
            first_field = false;
            json_string(out, f.name);
            out += ':' + std::to_string(c.*f.member);
        }
        out += '}';
    }
    out += "}}\n";
    return out;
}

std::string to_prometheus(const Stats& s, const StatsMeta& meta) {
    std::string out;
    prom_head(out, "filter_arc_start_time_seconds",
              "When the counters started, in seconds since the epoch.", "gauge");
    out += "filter_arc_start_time_seconds " + std::to_string(meta.started) + "\n";
    for (const auto& f : families_table) {
        prom_head(out, f.metric, f.help, "counter");
        if (f.label.empty()) {
            out.append(f.metric).append(" ").append(std::to_string(s.count(f.name))).append("\n");
            continue;
        }
        auto it = s.families().find(f.name);
        if (it == s.families().end())
            continue;
        for (const auto& [label, n] : it->second)
            out.append(f.metric)
                .append("{")
                .append(f.label)
                .append("=\"")
                .append(prom_label(label))
                .append("\"} ")
                .append(std::to_string(n))
                .append("\n");
    }
    prom_head(out, "filter_arc_sealers", "Sealers counted by name (the rest are in \"(other)\").",
              "gauge");
    out += "filter_arc_sealers " +
           std::to_string(s.sealers().size() - s.sealers().count(other_sealers)) + "\n";
    for (const auto& f : sealer_fields) {
        prom_head(out, f.metric, f.help, "counter");
        for (const auto& [name, c] : s.sealers())
            out.append(f.metric)
                .append("{sealer=\"")
                .append(prom_label(name))
                .append("\"} ")
                .append(std::to_string(c.*f.member))
                .append("\n");
    }
    return out;
}

std::optional<StatsFile>
parse_stats_json(std::string_view text, std::string& error, std::size_t max) {
    StatsFile file{Stats(max), {}};
    Reader r(text);
    bool format_ok = false;
    std::string why;
    auto fail = [&](std::string what) {
        if (why.empty())
            why = std::move(what);
        return false;
    };
    auto counters = [&](const std::string& fam) {
        const CounterFamily* f = family(fam);
        if (f == nullptr)
            return fail("unknown counter \"" + fam + "\"");
        if (f->label.empty()) {
            auto n = r.number();
            return n ? (file.stats.add(fam, "", *n), true) : fail("bad number in " + fam);
        }
        return r.object([&](const std::string& label) {
            auto n = r.number();
            if (!n || label.empty())
                return fail("bad counter " + fam + "." + label);
            file.stats.add(fam, label, *n);
            return true;
        });
    };
    auto sealers = [&](const std::string& name) {
        SealerCounts c;
        bool ok = r.object([&](const std::string& field) {
            for (const auto& f : sealer_fields)
                if (f.name == field) {
                    auto n = r.number();
                    if (!n)
                        return fail("bad number in sealer " + name);
                    c.*f.member = *n;
                    return true;
                }
            return fail("unknown sealer field \"" + field + "\"");
        });
        if (ok)
            file.stats.add_sealer(name, c);
        return ok;
    };
    bool ok = r.object([&](const std::string& key) {
        if (key == "format") {
            auto v = r.string();
            format_ok = v && *v == "filter-arc-stats";
            return format_ok || fail("not a filter-arc statistics file");
        }
        if (key == "version") {
            auto v = r.number();
            return (v && *v == 1) || fail("unknown version");
        }
        if (key == "mode") {
            auto v = r.string();
            if (v)
                file.meta.mode = *v;
            return v.has_value();
        }
        if (key == "started" || key == "written") {
            auto v = r.number();
            if (v)
                (key == "started" ? file.meta.started : file.meta.written) = *v;
            return v.has_value();
        }
        if (key == "counters")
            return r.object(counters);
        if (key == "sealers")
            return r.object(sealers);
        return fail("unknown member \"" + key + "\"");
    });
    if (!ok || !r.at_end()) {
        error = why.empty() ? "not valid JSON at byte " + std::to_string(r.pos()) : why;
        if (!format_ok)
            error = "not a filter-arc statistics file (" + error + ")";
        return std::nullopt;
    }
    if (!format_ok) {
        error = "not a filter-arc statistics file";
        return std::nullopt;
    }
    return file;
}

} // namespace arcf::pipeline
