#pragma once
// Many producer connections to bscd daemons held open at once (a thousand),
// all on one background thread: each connects to its daemon's socket, then
// sends its codes at the times it was given, one request line each, waiting
// for each reply. The test asks how many codes were answered OK, and
// whether any connection failed or was closed by the daemon.

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/background_loop.hpp"
#include "support/failure_tally.hpp"

namespace bscd::test {

struct ProducerPlan {
    std::string socket_path;
    // Each code is sent this long after start(), or when the previous one
    // was answered if that is later.
    std::vector<std::pair<std::chrono::milliseconds, std::string>> codes;
};

class ProducerSwarm {
public:
    using Clock = std::chrono::steady_clock;

    // Starts the thread and connects every plan's connection.
    explicit ProducerSwarm(std::vector<ProducerPlan> plans);
    ~ProducerSwarm();  // close()
    ProducerSwarm(const ProducerSwarm&) = delete;
    ProducerSwarm& operator=(const ProducerSwarm&) = delete;

    // True when every connection is up within `timeout` (false as soon as
    // one failed).
    bool wait_connected(std::chrono::milliseconds timeout);
    // The plans' clock starts now.
    void start();
    // True when every code of every plan was answered within `timeout`
    // (false as soon as one connection failed).
    bool wait_answered(std::chrono::milliseconds timeout);

    std::size_t size() const { return size_; }
    std::size_t connected() const;
    std::size_t sent() const;
    std::size_t answered_ok() const;
    // Connections that failed to connect, got a reply other than OK, or
    // were closed before close().
    std::size_t failed() const;
    std::string failures(std::size_t max = 5) const;

    // Closes every connection and stops the thread; idempotent.
    void close();

private:
    struct Connection;

    void connect(Connection& connection);
    void schedule(Connection& connection);
    void send_next(Connection& connection);
    void read_reply(Connection& connection);
    void fail(Connection& connection, std::string reason);

    std::size_t size_;
    BackgroundLoop loop_;  // before connections_: their sockets use its io_context
    std::vector<std::unique_ptr<Connection>> connections_;
    Clock::time_point start_{};
    bool closing_ = false;  // on the thread only

    mutable std::mutex mutex_;  // what the test thread reads
    std::size_t connected_ = 0;
    std::size_t sent_ = 0;
    std::size_t answered_ok_ = 0;
    std::size_t total_codes_ = 0;
    FailureTally failures_;
};

}  // namespace bscd::test
