// SPDX-License-Identifier: ISC
// Streaming replay of a message to smtpd (shared notes, opensmtpd-filter-protocol.md §6: smtpd
// un-stuffs what the filter sends and commits only after the final ".").
#include "filter/smtpd/replay.hpp"

#include <algorithm>

namespace arcf::filter {

Replay::Replay(std::uint64_t message,
               Responder responder,
               std::vector<std::string> added,
               std::unique_ptr<Spool> spool,
               std::vector<bool> removed,
               std::function<void(std::string_view)> fault)
    : message_(message), responder_(std::move(responder)), added_(std::move(added)),
      spool_(std::move(spool)), removed_(std::move(removed)), fault_(std::move(fault)) {
    const std::size_t per_line = 16 + 36; // "filter-dataline|" + 16 + '|' + 16 + '|' + '\n'
    for (const auto& a : added_)
        size_hint_ += a.size() + 1 + per_line;
    if (spool_)
        size_hint_ += spool_->bytes() + spool_->lines() * per_line;
    size_hint_ += 2 + per_line;
}

Replay::~Replay() = default;

bool Replay::next(std::string& out, std::size_t chunk) {
    if (fault_)
        fault_("replay");
    const std::size_t start = out.size();
    // One allocation for the chunk (the estimate is exact but for lines cut at the limit).
    out.reserve(start + std::min(size_hint_, chunk) + 1024);
    while (stage_ != Stage::done && out.size() - start < chunk) {
        const std::size_t mark = out.size();
        try {
            switch (stage_) {
            case Stage::added:
                if (index_ < added_.size()) {
                    const std::string& a = added_[index_++];
                    // A line we add that starts with '.' is stuffed (RFC 5321 §4.5.2).
                    if (!a.empty() && a[0] == '.')
                        responder_.dataline(out, "." + a);
                    else
                        responder_.dataline(out, a);
                } else {
                    stage_ = spool_ ? Stage::body : Stage::dot;
                    index_ = 0;
                    if (spool_)
                        reader_ = std::make_unique<SpoolReader>(*spool_);
                }
                break;
            case Stage::body: {
                // The spooled lines, until the chunk is full or they end. A failure on the way
                // drops this pass's lines (whole ones, back to `mark`): the replay is then
                // aborted and its message deferred (Engine::pull), so none of it is stored.
                std::string_view raw;
                while (stage_ == Stage::body && out.size() - start < chunk) {
                    switch (reader_->next(raw)) {
                    case SpoolReader::Status::line:
                        // Forged Authentication-Results are left out of what smtpd stores (RFC
                        // 8601 §5); every other line goes back exactly as received, still
                        // dot-stuffed.
                        if (!(index_ < removed_.size() && removed_[index_]))
                            responder_.dataline(out, raw);
                        ++index_;
                        break;
                    case SpoolReader::Status::error:
                        failed_ = true; // the message ends here and is deferred at commit
                        stage_ = Stage::dot;
                        break;
                    case SpoolReader::Status::end:
                        stage_ = Stage::dot;
                        break;
                    }
                }
                break;
            }
            case Stage::dot:
                responder_.dataline(out, ".");
                stage_ = Stage::done;
                reader_.reset();
                spool_.reset(); // the memory (or the temporary file) goes back now
                break;
            case Stage::done:
                break;
            }
        } catch (...) {
            out.resize(mark); // whole lines only; resize down does not throw
            throw;
        }
    }
    const std::size_t wrote = out.size() - start;
    size_hint_ = wrote < size_hint_ ? size_hint_ - wrote : 0;
    if (stage_ == Stage::done)
        size_hint_ = 0;
    return stage_ != Stage::done;
}

void Replay::abort(std::string& out) {
    failed_ = true;
    if (stage_ == Stage::done)
        return;
    stage_ = Stage::done;
    reader_.reset();
    spool_.reset();
    size_hint_ = 0;
    responder_.dataline(out, ".");
}

} // namespace arcf::filter
