// SPDX-License-Identifier: ISC
// Test fixture: runs tests/tools/dns_responder.py (RFC 1035 §4.2 UDP/TCP on 127.0.0.1) for the
// lifetime of one object and stops it by PID, also when a test fails or throws.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace arcf::dns::test {

struct QueryCounts {
    int total = 0;
    int udp = 0;
    int tcp = 0;
};

/// A loopback authoritative server for `zone` (master-file text) with `faults` ("name=mode",
/// see the script's header). The constructor returns once the port is known; it throws
/// std::runtime_error when the responder cannot start. The destructor sends SIGTERM to that PID
/// (SIGKILL after 2 s) and reaps it. The child also exits when this process dies, because it
/// watches a pipe on its stdin.
class LoopbackResponder {
  public:
    explicit LoopbackResponder(const std::string& zone,
                               const std::vector<std::string>& faults = {},
                               const std::vector<std::string>& extra_args = {});
    ~LoopbackResponder();
    LoopbackResponder(const LoopbackResponder&) = delete;
    LoopbackResponder& operator=(const LoopbackResponder&) = delete;

    std::uint16_t port() const { return port_; }
    /// "127.0.0.1:PORT", for AresOptions::servers.
    std::string server() const;
    /// Queries the responder has received for `name` so far (lower case, no final dot).
    QueryCounts counts(const std::string& name) const;

  private:
    void start(const std::string& zone,
               const std::vector<std::string>& faults,
               const std::vector<std::string>& extra_args);
    void wait_for_port();
    void stop();

    std::string dir_;
    pid_t pid_ = -1;
    int stdin_pipe_ = -1;
    std::uint16_t port_ = 0;
};

/// Runs `io` until `done()` holds or `limit` passes; returns done().
bool run_until(boost::asio::io_context& io,
               std::chrono::milliseconds limit,
               const std::function<bool()>& done);

/// Runs `io` for `span` (handlers keep running; nothing is awaited).
void run_for(boost::asio::io_context& io, std::chrono::milliseconds span);

/// A TXT value of `n` octets ("v=DKIM1; k=rsa; p=" followed by base64-like filler).
std::string key_record(std::size_t n);

} // namespace arcf::dns::test
