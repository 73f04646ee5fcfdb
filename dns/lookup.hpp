// SPDX-License-Identifier: ISC
// Asio helpers for the command-line tools: build the configured resolver stack and resolve a set
// of key names (RFC 6376 §3.6.2.1 "selector._domainkey.domain") in parallel under one deadline.
#pragma once

#include "dns/ares_resolver.hpp"
#include "dns/cache.hpp"
#include "dns/options.hpp"
#include "dns/resolver.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace arcf::dns {

/// A Post that runs functions on `io` (boost::asio::post).
Post post_to(boost::asio::io_context& io);

/// AresResolver, wrapped in a CachingResolver when `opts.cache`. Throws std::runtime_error on a
/// bad server list or when c-ares cannot start (startup only). Destroy it before `io`.
std::unique_ptr<Resolver> make_resolver(boost::asio::io_context& io, const ResolverOptions& opts);

/// Resolves every name (duplicates once) in parallel by running `io` until all answered or
/// `deadline` passed; late names get Status::temporary with detail "deadline" and their queries
/// are cancelled. Other work on `io` runs meanwhile. Must not be called from inside `io`.
/// The same for questions of any type (A, AAAA, MX, TXT, PTR).
std::map<Question, Answer> lookup_questions(boost::asio::io_context& io,
                                            Resolver& resolver,
                                            const std::vector<Question>& questions,
                                            std::chrono::milliseconds deadline);

std::map<std::string, TxtAnswer> lookup_all(boost::asio::io_context& io,
                                            Resolver& resolver,
                                            const std::vector<std::string>& names,
                                            std::chrono::milliseconds deadline);

} // namespace arcf::dns
