#pragma once
// Thousands of Server-Sent Events viewers that come back as EventSource
// does: when a stream ends or a connection fails, each waits the retry time
// and asks again with Last-Event-ID (the last event it received), until a
// 204 says the build is over. All on one background thread, each viewer
// small (a socket, a timer, the parsers and the ids it received, interned).
// For a gateway restarted under many viewers: who is back, and whether each
// has every event exactly once.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "support/background_loop.hpp"
#include "support/failure_tally.hpp"

namespace bscd::test {

struct ResumingSwarmOptions {
    // Wait before reconnecting (EventSource: the stream's `retry:`, 2 s
    // from the gateway), plus a uniformly random part up to `jitter`.
    std::chrono::milliseconds retry = std::chrono::milliseconds(2000);
    std::chrono::milliseconds jitter = std::chrono::milliseconds(0);
    // At most this many viewers wait for their response head at a time:
    // a test machine's own limit (listen backlog, one CPU for the client),
    // not a browser's. The rest wait their turn.
    std::size_t max_connecting = 256;
};

class ResumingSwarm {
public:
    using Clock = std::chrono::steady_clock;
    using Options = ResumingSwarmOptions;

    // Raises the open-files limit, starts the thread and connects `viewers`
    // viewers to 127.0.0.1:port, each sending `GET target`.
    ResumingSwarm(int port, const std::string& target, std::size_t viewers, Options options = {});
    ~ResumingSwarm();  // close()
    ResumingSwarm(const ResumingSwarm&) = delete;
    ResumingSwarm& operator=(const ResumingSwarm&) = delete;

    std::size_t size() const { return size_; }
    // Viewers whose stream (200) is open now.
    std::size_t streaming() const;
    // Viewers told the build is over (204); they ask no more.
    std::size_t finished() const;
    // Streams opened (200) by all the viewers, since the start.
    std::size_t streams_opened() const;
    // When each of them was opened (its response head read), in order.
    std::vector<Clock::time_point> stream_open_times() const;
    // Attempts that got no stream: refused, reset, or an answer other than
    // 200 and 204 (those are also errors()).
    std::size_t attempts_failed() const;
    // What no browser would accept: answers other than 200 and 204, and
    // malformed events (no id, a type other than status, stray fields).
    std::size_t errors() const;
    std::string describe_errors(std::size_t max = 5) const;

    // Viewers whose last event received has this id.
    std::size_t viewers_at(const std::string& id) const;
    // Viewers whose events are exactly `ids`: each once, in this order.
    std::size_t viewers_with_exactly(const std::vector<std::string>& ids) const;

    // Closes every viewer and stops the thread; idempotent.
    void close();

private:
    struct Viewer;

    void queue(Viewer& viewer);
    void connect_more();
    void connect(Viewer& viewer);
    void wait_readable(Viewer& viewer);
    void on_readable(Viewer& viewer);
    // The attempt or stream is over: reconnect after the retry time, unless
    // `finished`.
    void ended(Viewer& viewer, bool finished, const std::string& error);
    std::uint32_t intern(const std::string& id);  // under mutex_

    std::size_t size_;
    std::string request_head_;  // up to the blank line, without Last-Event-ID
    int port_;
    Options options_;
    std::minstd_rand random_{12345};

    BackgroundLoop loop_;  // before viewers_: their sockets use its io_context
    std::vector<std::unique_ptr<Viewer>> viewers_;
    std::vector<char> buffer_;  // shared: reads are synchronous once readable
    std::deque<Viewer*> waiting_;
    std::size_t connecting_ = 0;
    bool closing_ = false;

    mutable std::mutex mutex_;  // what the test thread reads
    std::size_t streaming_ = 0;
    std::size_t finished_ = 0;
    std::vector<Clock::time_point> opened_at_;
    std::size_t attempts_failed_ = 0;
    FailureTally errors_;
    std::unordered_map<std::string, std::uint32_t> id_index_;
    std::vector<std::string> id_names_;
};

}  // namespace bscd::test
