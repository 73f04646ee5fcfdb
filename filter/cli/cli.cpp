// SPDX-License-Identifier: ISC
// Command-line plumbing shared by `verify`, `seal` and the other tools.
#include "filter/cli/cli.hpp"

#include "dns/lookup.hpp"
#include "dns/zone_file.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <unistd.h>

#include "mail/header.hpp"
#include "text/json.hpp"

namespace arcf::filter {

Args::Args(std::vector<std::string> argv,
           std::vector<std::string> with_value,
           std::vector<std::string> flags) {
    auto takes_value = [&](const std::string& n) {
        return std::find(with_value.begin(), with_value.end(), n) != with_value.end();
    };
    auto is_flag = [&](const std::string& n) {
        return std::find(flags.begin(), flags.end(), n) != flags.end();
    };
    bool only_positional = false;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (only_positional || a == "-" || a.rfind("-", 0) != 0) {
            positional_.push_back(a);
            continue;
        }
        if (a == "--") {
            only_positional = true;
            continue;
        }
        std::string name = a, val;
        bool inline_value = false;
        if (auto eq = a.find('='); eq != std::string::npos) {
            name = a.substr(0, eq);
            val = a.substr(eq + 1);
            inline_value = true;
        }
        if (takes_value(name)) {
            if (!inline_value) {
                if (i + 1 >= argv.size())
                    throw UsageError{name + " needs a value"};
                val = argv[++i];
            }
            values_.emplace_back(name, val);
        } else if (is_flag(name) && !inline_value) {
            flags_.push_back(name);
        } else {
            throw UsageError{"unknown option " + name};
        }
    }
}

std::optional<std::string> Args::value(std::string_view name) const {
    std::optional<std::string> out;
    for (const auto& [n, v] : values_)
        if (n == name)
            out = v; // the last one wins
    return out;
}

bool Args::flag(std::string_view name) const {
    return std::find(flags_.begin(), flags_.end(), name) != flags_.end();
}

std::uint64_t parse_unsigned(std::string_view what, std::string_view text) {
    if (text.empty() || text.size() > 19)
        throw UsageError{std::string(what) + " needs a number"};
    std::uint64_t n = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            throw UsageError{std::string(what) + " needs a number, not '" + std::string(text) +
                             "'"};
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

bool read_input(const std::string& path, std::string& out, std::string& error) {
    if (path == "-") {
        std::ostringstream ss;
        ss << std::cin.rdbuf();
        out = ss.str();
        return true;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot open " + path;
        return false;
    }
    try {
        out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } catch (const std::exception&) { // libstdc++ throws for a read error (a directory, EIO)
        in.setstate(std::ios::badbit);
    }
    if (in.bad()) {
        error = "cannot read " + path;
        return false;
    }
    return true;
}

RecordSource make_record_source(const KeySourceOptions& opts) {
    if (opts.zone_file) {
        std::string text, err;
        if (!read_input(*opts.zone_file, text, err))
            throw UsageError{"--dns-zone: " + err};
        auto zone = std::make_shared<dns::ZoneFile>();
        if (!zone->parse(text, err))
            throw UsageError{"--dns-zone " + *opts.zone_file + ": " + err};
        return [zone](const std::vector<dns::Question>& qs) {
            std::vector<dns::Answer> out;
            for (const auto& q : qs)
                out.push_back(zone->lookup(q.first, q.second));
            return out;
        };
    }
    // Live DNS through c-ares: the system resolver, or --dns-server HOST:PORT[,HOST:PORT].
    dns::ResolverOptions ro;
    if (opts.dns_server)
        ro.ares.servers = *opts.dns_server;
    ro.ares.timeout = std::chrono::milliseconds(std::max(1u, opts.timeout_ms / 2));
    ro.cache = false;
    // The resolver must go before its io_context: both live in one object, io declared first.
    struct Live {
        boost::asio::io_context io;
        std::unique_ptr<dns::Resolver> resolver;
    };
    auto live = std::make_shared<Live>();
    try {
        live->resolver = dns::make_resolver(live->io, ro);
    } catch (const std::exception& e) {
        throw UsageError{std::string("DNS resolver: ") + e.what()};
    }
    unsigned deadline = opts.timeout_ms;
    return [live, deadline](const std::vector<dns::Question>& qs) {
        auto answers = dns::lookup_questions(live->io, *live->resolver, qs,
                                             std::chrono::milliseconds(deadline));
        std::vector<dns::Answer> out;
        for (const auto& q : qs)
            out.push_back(answers[q]);
        return out;
    };
}

KeySource make_key_source(const KeySourceOptions& opts) {
    auto typed = make_record_source(opts);
    return [typed](const std::vector<std::string>& names) {
        std::vector<dns::Question> qs;
        for (const auto& n : names)
            qs.emplace_back(dns::RecordType::txt, n);
        return typed(qs);
    };
}

std::string json_escape(std::string_view s) {
    return text::json_escape(s);
}

std::string default_authserv_id() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) == 0 && buf[0] != '\0')
        return buf;
    return "localhost";
}

} // namespace arcf::filter
