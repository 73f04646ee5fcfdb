// SPDX-License-Identifier: ISC
// Resolver construction and parallel, deadline-bounded TXT lookups for the CLI (RFC 6376 §3.6.2,
// RFC 8617 §5.2: keys not known by the deadline are temporary failures).
#include "dns/lookup.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <utility>

namespace arcf::dns {

Post post_to(boost::asio::io_context& io) {
    return [&io](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); };
}

std::unique_ptr<Resolver> make_resolver(boost::asio::io_context& io, const ResolverOptions& opts) {
    auto ares = std::make_unique<AresResolver>(io, opts.ares);
    if (!opts.cache)
        return ares;
    return std::make_unique<CachingResolver>(std::move(ares), post_to(io), opts.cache_options);
}

std::map<Question, Answer> lookup_questions(boost::asio::io_context& io,
                                            Resolver& resolver,
                                            const std::vector<Question>& questions,
                                            std::chrono::milliseconds deadline) {
    std::map<Question, Answer> out;
    std::map<Question, Resolver::QueryId> outstanding;
    for (const auto& q : questions) {
        if (out.count(q) != 0 || outstanding.count(q) != 0)
            continue;
        // Completions run later, from io.run_one() below; the captured locals outlive them
        // because every query still outstanding at the end is cancelled.
        outstanding[q] = resolver.query(q.first, q.second, [&out, &outstanding, q](Answer a) {
            out[q] = std::move(a);
            outstanding.erase(q);
        });
    }
    if (outstanding.empty())
        return out;

    bool expired = false;
    bool timer_done = false;
    boost::asio::steady_timer timer(io, deadline);
    timer.async_wait([&](boost::system::error_code ec) {
        timer_done = true;
        if (!ec)
            expired = true;
    });
    while (!outstanding.empty() && !expired) {
        if (io.stopped())
            io.restart();
        io.run_one();
    }
    for (auto& [q, id] : outstanding) {
        resolver.cancel(id);
        out[q] = Answer::failed(Status::temporary, "deadline");
    }
    outstanding.clear();
    timer.cancel();
    while (!timer_done) { // the handler refers to locals: let it run before returning
        if (io.stopped())
            io.restart();
        io.run_one();
    }
    return out;
}

std::map<std::string, TxtAnswer> lookup_all(boost::asio::io_context& io,
                                            Resolver& resolver,
                                            const std::vector<std::string>& names,
                                            std::chrono::milliseconds deadline) {
    std::vector<Question> qs;
    qs.reserve(names.size());
    for (const auto& n : names)
        qs.emplace_back(RecordType::txt, n);
    std::map<std::string, TxtAnswer> out;
    for (auto& [q, a] : lookup_questions(io, resolver, qs, deadline))
        out[q.second] = std::move(a);
    return out;
}

} // namespace arcf::dns
