// SPDX-License-Identifier: ISC
// Header field splitting per RFC 5322 §2.2 (field = name ":" value, folded with leading WSP).
#include "mail/header.hpp"

#include <algorithm>

#include "text/ascii.hpp"

namespace arcf::mail {

HeaderField::HeaderField(std::string raw) : own_(std::move(raw)), raw_(own_) {
    locate_colon();
}

HeaderField HeaderField::view_of(std::string_view raw) {
    HeaderField f;
    f.raw_ = raw;
    f.viewed_ = true;
    f.locate_colon();
    return f;
}

// The view follows the text: a copied or moved own_ is at a new address (always so for short
// strings, which live inside the std::string).
void HeaderField::take_view_of(const HeaderField& other) {
    viewed_ = other.viewed_;
    raw_ = viewed_ ? other.raw_ : std::string_view(own_);
    name_len_ = other.name_len_;
    colon_ = other.colon_;
}

HeaderField::HeaderField(const HeaderField& other) : own_(other.own_) {
    take_view_of(other);
}

HeaderField::HeaderField(HeaderField&& other) noexcept : own_(std::move(other.own_)) {
    take_view_of(other);
    other = HeaderField();
}

HeaderField& HeaderField::operator=(const HeaderField& other) {
    if (this != &other) {
        own_ = other.own_;
        take_view_of(other);
    }
    return *this;
}

HeaderField& HeaderField::operator=(HeaderField&& other) noexcept {
    if (this != &other) {
        own_ = std::move(other.own_);
        take_view_of(other);
        other.own_.clear();
        other.raw_ = {};
        other.viewed_ = false;
        other.name_len_ = 0;
        other.colon_ = std::string::npos;
    }
    return *this;
}

void HeaderField::locate_colon() {
    colon_ = raw_.find(':');
    // RFC 5322 §3.6.8: field-name = 1*ftext (printable ASCII except ':'), so the name ends at the
    // colon; whitespace before the colon (obsolete syntax, RFC 5322 §4.5) is not part of it.
    // A line break before the colon (only the name is searched, not the whole value).
    if (colon_ == std::string::npos ||
        raw_.substr(0, colon_).find('\n') != std::string_view::npos) {
        colon_ = std::string::npos;
        name_len_ = 0;
        return;
    }
    name_len_ = colon_;
    while (name_len_ > 0 && (raw_[name_len_ - 1] == ' ' || raw_[name_len_ - 1] == '\t'))
        --name_len_;
}

std::string_view HeaderField::value() const {
    if (colon_ == std::string::npos)
        return {};
    return raw_.substr(colon_ + 1);
}

bool HeaderField::is(std::string_view lower_name) const {
    return text::iequals(name(), lower_name);
}

bool HeaderCollector::add_line(std::string_view line) {
    if (line.empty()) {
        finish();
        return false;
    }
    bytes_ += line.size() + 2;
    if ((line[0] == ' ' || line[0] == '\t') && have_pending_) {
        // A folded field (RFC 5322 §2.2.3): one growth for the CRLF and the line, at least
        // doubling, so that the several lines of an ARC or DKIM field cost one or two
        // allocations instead of two per line.
        const std::size_t need = pending_.size() + 2 + line.size();
        if (need > pending_.capacity())
            pending_.reserve(std::max(2 * need, std::size_t{256}));
        pending_.append("\r\n");
        pending_.append(line);
        return true;
    }
    finish();
    if (fields_.empty())
        fields_.reserve(32); // a delivered message has a few dozen fields
    pending_.assign(line);
    have_pending_ = true;
    return true;
}

void HeaderCollector::finish() {
    if (have_pending_) {
        fields_.emplace_back(std::move(pending_));
        pending_.clear();
        have_pending_ = false;
    }
}

bool has_bare_cr(std::string_view text) {
    for (std::size_t i = text.find('\r'); i != std::string_view::npos; i = text.find('\r', i + 1))
        if (i + 1 >= text.size() || text[i + 1] != '\n')
            return true;
    return false;
}

std::vector<HeaderField> fields_with_bare_cr_breaks(std::string_view raw) {
    std::vector<HeaderField> out;
    std::string pending;
    bool have = false;
    auto flush = [&] {
        if (have)
            out.emplace_back(std::move(pending));
        pending.clear();
        have = false;
    };
    std::size_t pos = 0;
    while (pos <= raw.size()) {
        // The next line break: CRLF, a bare CR, or a bare LF (never in HeaderField, but cheap).
        std::size_t end = raw.find_first_of("\r\n", pos);
        std::string_view line = raw.substr(pos, end == std::string_view::npos ? end : end - pos);
        if (!line.empty()) {
            if ((line[0] == ' ' || line[0] == '\t') && have) {
                pending.append("\r\n");
                pending.append(line);
            } else {
                flush();
                pending.assign(line);
                have = true;
            }
        }
        if (end == std::string_view::npos)
            break;
        pos = end + (raw[end] == '\r' && end + 1 < raw.size() && raw[end + 1] == '\n' ? 2 : 1);
    }
    flush();
    return out;
}

SplitMessage split_message(std::string_view message) {
    SplitMessage out;
    HeaderCollector hc;
    std::size_t pos = 0;
    while (pos < message.size()) {
        std::size_t nl = message.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? message.size() : nl;
        std::size_t next = nl == std::string_view::npos ? message.size() : nl + 1;
        std::size_t stop = end;
        // Only a CR right before LF ends a line (as in for_each_line); a final CR is data.
        if (nl != std::string_view::npos && stop > pos && message[stop - 1] == '\r')
            --stop;
        if (!hc.add_line(message.substr(pos, stop - pos))) {
            out.has_separator = true;
            pos = next;
            break;
        }
        pos = next;
    }
    hc.finish();
    out.headers = std::move(hc.fields());
    out.body = message.substr(pos);
    return out;
}

} // namespace arcf::mail

namespace arcf::mail {

SplitMessage split_message_view(std::string_view message) {
    // The lines as split_message reads them; a field is the text from its first line to the
    // end of its last, which is the field's raw form exactly when each line break inside it is
    // CRLF. At the first header line that ends in a bare LF, the copying split takes over.
    SplitMessage out;
    out.headers.reserve(32); // a delivered message has a few dozen fields
    std::size_t begin = std::string_view::npos, end = 0;
    const auto flush = [&] {
        if (begin != std::string_view::npos)
            out.headers.push_back(HeaderField::view_of(message.substr(begin, end - begin)));
        begin = std::string_view::npos;
    };
    std::size_t pos = 0;
    while (pos < message.size()) {
        const std::size_t nl = message.find('\n', pos);
        std::size_t stop = nl == std::string_view::npos ? message.size() : nl;
        const std::size_t next = nl == std::string_view::npos ? message.size() : nl + 1;
        // Only a CR right before LF ends a line (as in for_each_line); a final CR is data.
        if (nl != std::string_view::npos) {
            if (stop > pos && message[stop - 1] == '\r')
                --stop;
            else if (stop > pos)
                return split_message(message); // a bare LF ends a header line
        }
        if (stop == pos) { // the empty line: the header block is complete
            flush();
            out.has_separator = true;
            out.body = message.substr(next);
            return out;
        }
        const char first = message[pos];
        if ((first == ' ' || first == '\t') && begin != std::string_view::npos) {
            end = stop; // RFC 5322 §2.2.3: a folded field continues
        } else {
            flush();
            begin = pos;
            end = stop;
        }
        pos = next;
    }
    flush();
    out.body = message.substr(pos);
    return out;
}

} // namespace arcf::mail
