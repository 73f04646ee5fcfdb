// SPDX-License-Identifier: ISC
// Corpus replay for builds without libFuzzer (g++, or clang without -Dfuzz=true): runs the
// target once on every file under the given files or directories, in name order, and fails as
// soon as one input crashes or violates a property (the target aborts). libFuzzer options
// (arguments starting with '-') are ignored, so the same command line works for both builds.
#include "tests/fuzz/fuzz.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.rfind("-", 0) == 0)
            continue;
        std::error_code ec;
        if (fs::is_directory(arg, ec)) {
            for (const auto& e : fs::recursive_directory_iterator(arg))
                if (e.is_regular_file())
                    files.push_back(e.path());
        } else if (fs::is_regular_file(arg, ec)) {
            files.emplace_back(arg);
        } else {
            std::cerr << argv[0] << ": no such file or directory: " << arg << "\n";
            return 2;
        }
    }
    if (files.empty()) {
        std::cerr << "usage: " << argv[0] << " CORPUS_DIR|FILE...\n";
        return 2;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::vector<char> data((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) {
            std::cerr << "cannot read " << f << "\n";
            return 2;
        }
        // A copy of exactly the input's size, so that ASan sees reads past its end.
        std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[data.size()]);
        std::copy(data.begin(), data.end(), buf.get());
        LLVMFuzzerTestOneInput(buf.get(), data.size());
    }
    std::cout << argv[0] << ": " << files.size() << " inputs replayed, no failure\n";
    return 0;
}
