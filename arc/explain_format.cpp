// SPDX-License-Identifier: ISC
#include "arc/explain_format.hpp"

#include <cstdio>

#include "text/json.hpp"

namespace arcf::arc {

std::string utc_time(std::uint64_t t) {
    // Days since 1970-01-01 to a civil date: eras of 400 years (146097 days) starting on
    // 0000-03-01, so the leap day is the last day of each year of the era.
    if (t > 253402300799u) // after 9999-12-31 23:59:59: no four-digit year
        return std::to_string(t) + " (UNIX time)";
    const std::uint64_t days = t / 86400, secs = t % 86400;
    const std::uint64_t z = days + 719468;
    const std::uint64_t era = z / 146097;
    const std::uint64_t doe = z - era * 146097;
    const std::uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::uint64_t mp = (5 * doy + 2) / 153;
    const std::uint64_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::uint64_t month = mp < 10 ? mp + 3 : mp - 9;
    const std::uint64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04u-%02u-%02u %02u:%02u:%02u UTC", static_cast<unsigned>(year),
                  static_cast<unsigned>(month), static_cast<unsigned>(day),
                  static_cast<unsigned>(secs / 3600), static_cast<unsigned>(secs / 60 % 60),
                  static_cast<unsigned>(secs % 60));
    return buf;
}

namespace {

/// Field values come from the message: control bytes are shown escaped, so one report line
/// stays one line.
std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

std::string json_string(std::string_view s) {
    return "\"" + text::json_escape(s) + "\"";
}

std::string json_number(const std::optional<std::uint64_t>& v) {
    return v ? std::to_string(*v) : "null";
}

std::string json_time(const std::optional<std::uint64_t>& v) {
    return v ? json_string(utc_time(*v)) : "null";
}

std::string time_text(const std::optional<std::uint64_t>& v) {
    return v ? utc_time(*v) : "(no t=)";
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : std::string(sep)) + s;
    return out;
}

} // namespace

std::string format_explanation_text(const Explanation& e) {
    std::string o;
    o += "ARC chain: " + std::string(to_string(e.verdict.status)) + " (" +
         printable(e.verdict.reason) + ")";
    o += ", " + std::to_string(e.hops.size()) + " set" + (e.hops.size() == 1 ? "" : "s") +
         "; hops listed oldest first (hop 1 = i=1, the first to seal)\n";
    if (e.broken)
        o += "Broken at " +
             (e.broken->hop == 0 ? std::string("an unknown hop")
                                 : "hop " + std::to_string(e.broken->hop)) +
             " [" + e.broken->part + "]: " + printable(e.broken->text) + "\n";
    else if (e.verdict.status == ChainStatus::pass)
        o += "Not broken: the newest signature and every seal verify\n";
    for (const auto& h : e.hops) {
        o += "\nhop " + std::to_string(h.instance) + " (i=" + std::to_string(h.instance) + ")\n";
        if (!h.aar_present)
            o += "  ARC-Authentication-Results: missing\n";
        o += "  ARC-Seal:              ";
        if (!h.seal.present)
            o += "missing\n";
        else if (!h.seal.error.empty())
            o += "unparsable: " + printable(h.seal.error) + "\n";
        else {
            o += std::string(to_string(h.seal.signature)) +
                 " cv=" + std::string(to_string(h.seal.cv)) + " d=" + printable(h.seal.domain) +
                 " s=" + printable(h.seal.selector) + " a=" + h.seal.algorithm +
                 " t=" + time_text(h.seal.timestamp) + "\n";
            if (!h.seal.why.empty())
                o += "    why:                 " + printable(h.seal.why) + "\n";
        }
        o += "  ARC-Message-Signature: ";
        if (!h.ams.present)
            o += "missing\n";
        else if (!h.ams.error.empty())
            o += "unparsable: " + printable(h.ams.error) + "\n";
        else {
            const bool pass =
                h.ams.signature == CheckState::pass && h.ams.body_hash == CheckState::pass;
            const bool fail =
                h.ams.signature == CheckState::fail || h.ams.body_hash == CheckState::fail;
            o += std::string(pass   ? "pass"
                             : fail ? "fail"
                                    : to_string(h.ams.signature)) +
                 " d=" + printable(h.ams.domain) + " s=" + printable(h.ams.selector) +
                 " a=" + h.ams.algorithm + " c=" + h.ams.canon + " t=" + time_text(h.ams.timestamp);
            if (h.ams.expiration)
                o += " x=" + utc_time(*h.ams.expiration);
            if (h.ams.body_length)
                o += " l=" + std::to_string(*h.ams.body_length);
            o += "\n";
            o += "    signed fields (h=):  " + printable(join(h.ams.signed_headers, ":")) + "\n";
            o += "    body hash (bh=):     " +
                 std::string(h.ams.body_hash == CheckState::pass   ? "matches"
                             : h.ams.body_hash == CheckState::fail ? "does not match"
                                                                   : "not checked") +
                 "\n";
            o += "    header signature:    " + std::string(to_string(h.ams.signature));
            if (!h.ams.why.empty())
                o += " (" + printable(h.ams.why) + ")";
            o += "\n";
        }
        for (const auto& f : h.findings)
            o += "  - " + printable(f.text) + "\n";
    }
    if (!e.notes.empty()) {
        o += "\nnotes:\n";
        for (const auto& n : e.notes)
            o += "  " + printable(n) + "\n";
    }
    o += "\npublic-key operations: " + std::to_string(e.key_operations) + " for the hops, " +
         std::to_string(e.extra_operations) + " of at most " + std::to_string(e.extra_limit) +
         " for the undo candidates" + (e.extra_exhausted ? " (budget spent: some not tried)" : "") +
         "\n";
    return o;
}

std::string format_explanation_json(const Explanation& e) {
    std::string o = "{\"arc\":" + json_string(to_string(e.verdict.status)) +
                    ",\"reason\":" + json_string(e.verdict.reason) +
                    ",\"sets\":" + std::to_string(e.hops.size()) + ",\"order\":\"oldest-first\"";
    o += ",\"broken\":";
    if (e.broken)
        o += "{\"hop\":" +
             (e.broken->hop == 0 ? std::string("null") : std::to_string(e.broken->hop)) +
             ",\"part\":" + json_string(e.broken->part) +
             ",\"text\":" + json_string(e.broken->text) + "}";
    else
        o += "null";
    o += ",\"hops\":[";
    for (std::size_t k = 0; k < e.hops.size(); ++k) {
        const auto& h = e.hops[k];
        o += k ? "," : "";
        o += "{\"i\":" + std::to_string(h.instance) +
             ",\"aar\":" + (h.aar_present ? "true" : "false");
        o += ",\"seal\":{\"present\":" + std::string(h.seal.present ? "true" : "false") +
             ",\"error\":" + json_string(h.seal.error) +
             ",\"cv\":" + json_string(to_string(h.seal.cv)) +
             ",\"domain\":" + json_string(h.seal.domain) +
             ",\"selector\":" + json_string(h.seal.selector) +
             ",\"algorithm\":" + json_string(h.seal.algorithm) +
             ",\"t\":" + json_number(h.seal.timestamp) +
             ",\"time\":" + json_time(h.seal.timestamp) +
             ",\"signature\":" + json_string(to_string(h.seal.signature)) +
             ",\"why\":" + json_string(h.seal.why) + "}";
        o += ",\"ams\":{\"present\":" + std::string(h.ams.present ? "true" : "false") +
             ",\"error\":" + json_string(h.ams.error) + ",\"domain\":" + json_string(h.ams.domain) +
             ",\"selector\":" + json_string(h.ams.selector) +
             ",\"algorithm\":" + json_string(h.ams.algorithm) +
             ",\"c\":" + json_string(h.ams.canon) + ",\"t\":" + json_number(h.ams.timestamp) +
             ",\"time\":" + json_time(h.ams.timestamp) + ",\"x\":" + json_number(h.ams.expiration) +
             ",\"l\":" + json_number(h.ams.body_length) + ",\"h\":[";
        for (std::size_t j = 0; j < h.ams.signed_headers.size(); ++j)
            o += (j ? "," : "") + json_string(h.ams.signed_headers[j]);
        o += "],\"body_hash\":" + json_string(to_string(h.ams.body_hash)) +
             ",\"signature\":" + json_string(to_string(h.ams.signature)) +
             ",\"expired\":" + (h.ams.expired ? "true" : "false") +
             ",\"why\":" + json_string(h.ams.why) + "}";
        o += ",\"findings\":[";
        for (std::size_t j = 0; j < h.findings.size(); ++j) {
            const auto& f = h.findings[j];
            o += (j ? "," : "") + std::string("{\"part\":") + json_string(f.part) +
                 ",\"likelihood\":" + json_string(f.likelihood) +
                 ",\"cause\":" + json_string(f.cause) + ",\"field\":" + json_string(f.field) +
                 ",\"lines\":" + json_number(f.lines) + ",\"bytes\":" + json_number(f.bytes) +
                 ",\"text\":" + json_string(f.text) + "}";
        }
        o += "]}";
    }
    o += "],\"notes\":[";
    for (std::size_t j = 0; j < e.notes.size(); ++j)
        o += (j ? "," : "") + json_string(e.notes[j]);
    o += "],\"key_operations\":" + std::to_string(e.key_operations) +
         ",\"extra_operations\":" + std::to_string(e.extra_operations) +
         ",\"extra_limit\":" + std::to_string(e.extra_limit) +
         ",\"extra_exhausted\":" + (e.extra_exhausted ? "true" : "false") + "}";
    return o;
}

} // namespace arcf::arc
