#pragma once
// Many Server-Sent Events viewers of one stream at once (thousands), all on
// one background thread with one io_context, each kept small (a socket, the
// framing and event parsers, and when each event id arrived). Tests ask how
// many viewers have received an event with a given id, and when.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "support/background_loop.hpp"
#include "support/failure_tally.hpp"
#include "support/http_client.hpp"

namespace bscd::test {

class SseSwarm {
public:
    using Clock = std::chrono::steady_clock;

    // Raises the open-files limit, starts the thread and connects `viewers`
    // viewers to 127.0.0.1:port, each sending `GET target` with `headers`;
    // at most `max_connecting` of them wait for their response head at a
    // time (a burst of connections would overflow the listen backlog).
    SseSwarm(int port, const std::string& target, std::size_t viewers,
             const HttpHeaders& headers = {}, std::size_t max_connecting = 64);
    // close().
    ~SseSwarm();
    SseSwarm(const SseSwarm&) = delete;
    SseSwarm& operator=(const SseSwarm&) = delete;

    std::size_t size() const { return size_; }
    // Viewers that got a 200 head and whose stream is still open.
    std::size_t streaming() const;
    // Viewers that could not connect, got another status, or whose stream
    // ended.
    std::size_t failed() const;
    // True when every viewer streams within `timeout` (false as soon as one
    // failed).
    bool wait_streaming(std::chrono::milliseconds timeout = std::chrono::seconds(30));

    // Viewers that have received an event with this id.
    std::size_t received(const std::string& id) const;
    // True when every viewer received it within `timeout`.
    bool wait_received(const std::string& id,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // When each viewer received the event with `id`; nullopt: not (yet).
    std::vector<std::optional<Clock::time_point>> arrival_times(const std::string& id) const;
    // Events with no id, a type other than "status", or stray fields.
    std::size_t malformed_events() const;
    // Viewers whose events so far are exactly `ids`: each once, in this
    // order, nothing else.
    std::size_t viewers_with_exactly(const std::vector<std::string>& ids) const;
    // Events received by all the viewers together.
    std::size_t events_received() const;

    // Why the first `max` failed viewers failed (for failure messages).
    std::string failures(std::size_t max = 5) const;

    // Closes every viewer and stops the thread; idempotent.
    void close();

private:
    struct Viewer;
    struct Arrival {
        std::uint32_t id;  // index into ids_
        Clock::time_point at;
    };

    void connect_more();
    void connect(Viewer& viewer);
    void wait_readable(Viewer& viewer);
    void on_readable(Viewer& viewer);
    void fail(Viewer& viewer, std::string reason);
    std::uint32_t intern(const std::string& id);  // under mutex_

    std::size_t size_;
    std::string request_;
    int port_;
    std::size_t max_connecting_;

    BackgroundLoop loop_;  // before viewers_: their sockets use its io_context
    std::vector<std::unique_ptr<Viewer>> viewers_;
    std::vector<char> buffer_;  // shared: reads are synchronous once readable
    std::size_t next_ = 0;      // next viewer to connect
    std::size_t connecting_ = 0;
    bool closing_ = false;

    mutable std::mutex mutex_;  // what the test thread reads
    std::size_t streaming_ = 0;
    std::size_t malformed_ = 0;
    std::unordered_map<std::string, std::uint32_t> id_index_;
    std::vector<std::size_t> id_counts_;
    FailureTally failures_;
};

}  // namespace bscd::test
