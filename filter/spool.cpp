// SPDX-License-Identifier: ISC
// Message spool: memory first, an unlinked tmpfile(3) beyond the threshold.
#include "filter/spool.hpp"

#include <vector>

namespace arcf::filter {

Spool::Spool(std::size_t memory_limit) : limit_(memory_limit) {}

Spool::~Spool() {
    if (file_ != nullptr)
        std::fclose(file_);
}

bool Spool::spill() {
    file_ = std::tmpfile(); // unlinked at creation: nothing is left behind on a crash
    if (file_ == nullptr)
        return false;
    if (!memory_.empty() && std::fwrite(memory_.data(), 1, memory_.size(), file_) != memory_.size())
        return false;
    std::string().swap(memory_);
    return true;
}

bool Spool::append(std::string_view line) {
    if (failed_)
        return false;
    ++lines_;
    bytes_ += line.size() + 1;
    if (line.size() > longest_)
        longest_ = line.size();
    if (file_ == nullptr && bytes_ > limit_ && !spill()) {
        failed_ = true;
        return false;
    }
    if (file_ != nullptr) {
        if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
            std::fputc('\n', file_) == EOF) {
            failed_ = true;
            return false;
        }
        return true;
    }
    memory_.append(line);
    memory_.push_back('\n');
    return true;
}

bool Spool::replay(const std::function<void(std::string_view)>& fn) const {
    if (failed_)
        return false;
    if (file_ == nullptr) {
        std::size_t pos = 0;
        while (pos < memory_.size()) {
            auto nl = memory_.find('\n', pos);
            fn(std::string_view(memory_).substr(pos, nl - pos));
            pos = nl + 1;
        }
        return true;
    }
    if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0)
        return false;
    std::vector<char> buf(64 * 1024);
    std::string partial;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), file_)) > 0) {
        std::string_view chunk(buf.data(), n);
        std::size_t pos = 0;
        while (true) {
            auto nl = chunk.find('\n', pos);
            if (nl == std::string_view::npos) {
                partial.append(chunk.substr(pos));
                break;
            }
            if (partial.empty()) {
                fn(chunk.substr(pos, nl - pos));
            } else {
                partial.append(chunk.substr(pos, nl - pos));
                fn(partial);
                partial.clear();
            }
            pos = nl + 1;
        }
    }
    bool ok = std::ferror(file_) == 0;
    std::fseek(file_, 0, SEEK_END);
    return ok;
}

} // namespace arcf::filter
