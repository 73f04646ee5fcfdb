// SPDX-License-Identifier: ISC
// RFC 6376 §3.4 canonicalization algorithms.
#include "arc/canon.hpp"

#include "arc/header.hpp"

namespace arcf::arc {

namespace {
bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}
constexpr std::size_t buffer_size = 16 * 1024;
} // namespace

std::string_view to_string(Canon c) {
    return c == Canon::simple ? "simple" : "relaxed";
}

void append_canon_header(std::string& out, Canon c, std::string_view raw, bool with_crlf) {
    if (c == Canon::simple) {
        // RFC 6376 §3.4.1: the field exactly as it is.
        out.append(raw);
        if (with_crlf)
            out.append("\r\n");
        return;
    }
    // RFC 6376 §3.4.2: lower-case name, unfold, collapse WSP, strip WSP at the end and around
    // the colon.
    std::size_t colon = raw.find(':');
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && is_wsp(name.back()))
        name.remove_suffix(1);
    for (char ch : name)
        out.push_back((ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch);
    out.push_back(':');
    if (colon == std::string_view::npos) {
        if (with_crlf)
            out.append("\r\n");
        return;
    }
    std::string_view value = raw.substr(colon + 1);
    bool pending_space = false;
    bool started = false;
    for (char ch : value) {
        if (ch == '\r' || ch == '\n')
            continue; // unfold
        if (is_wsp(ch)) {
            pending_space = started;
            continue;
        }
        if (pending_space)
            out.push_back(' ');
        pending_space = false;
        started = true;
        out.push_back(ch);
    }
    if (with_crlf)
        out.append("\r\n");
}

std::string strip_b_value(std::string_view raw) {
    std::size_t colon = raw.find(':');
    std::size_t pos = colon == std::string_view::npos ? 0 : colon + 1;
    while (pos <= raw.size()) {
        std::size_t semi = raw.find(';', pos);
        std::size_t end = semi == std::string_view::npos ? raw.size() : semi;
        std::size_t p = pos;
        while (p < end && (is_wsp(raw[p]) || raw[p] == '\r' || raw[p] == '\n'))
            ++p;
        if (p < end && raw[p] == 'b') {
            std::size_t q = p + 1;
            while (q < end && (is_wsp(raw[q]) || raw[q] == '\r' || raw[q] == '\n'))
                ++q;
            if (q < end && raw[q] == '=') {
                std::string out(raw.substr(0, q + 1));
                out.append(raw.substr(end));
                return out;
            }
        }
        if (semi == std::string_view::npos)
            break;
        pos = semi + 1;
    }
    return std::string(raw);
}

BodyHasher::BodyHasher(Canon c, std::optional<std::uint64_t> limit) : canon_(c), limit_(limit) {
    buf_.reserve(buffer_size);
}

void BodyHasher::emit(std::string_view data) {
    length_ += data.size();
    if (limit_) {
        if (hashed_ >= *limit_)
            return;
        std::uint64_t room = *limit_ - hashed_;
        if (data.size() > room)
            data = data.substr(0, static_cast<std::size_t>(room));
    }
    hashed_ += data.size();
    if (buf_.size() + data.size() > buffer_size) {
        flush_buffer();
        if (data.size() >= buffer_size) {
            sha_.update(data);
            return;
        }
    }
    buf_.append(data);
}

void BodyHasher::flush_buffer() {
    sha_.update(buf_);
    buf_.clear();
}

void BodyHasher::add_line(std::string_view line) {
    std::string_view canonical = line;
    if (canon_ == Canon::relaxed) {
        // RFC 6376 §3.4.4: drop WSP at end of line, reduce WSP runs to one SP.
        line_.clear();
        bool pending_space = false;
        for (char ch : line) {
            if (is_wsp(ch)) {
                pending_space = true;
                continue;
            }
            if (pending_space)
                line_.push_back(' ');
            pending_space = false;
            line_.push_back(ch);
        }
        canonical = line_;
    }
    if (canonical.empty()) {
        ++pending_empty_; // trailing empty lines are ignored (§3.4.3, §3.4.4)
        return;
    }
    for (; pending_empty_ > 0; --pending_empty_)
        emit("\r\n");
    emit(canonical);
    emit("\r\n");
}

Digest BodyHasher::finish() {
    // RFC 6376 §3.4.3: an empty body is a single CRLF under simple; §3.4.4 (errata 1384):
    // an empty body stays empty under relaxed.
    if (canon_ == Canon::simple && length_ == 0)
        emit("\r\n");
    pending_empty_ = 0;
    flush_buffer();
    return sha_.finish();
}

} // namespace arcf::arc
