#pragma once
// A viewer that comes back after every disconnection, as a browser's does:
// over SSE like EventSource (Last-Event-ID: the last event it received), or
// over WebSocket like the gateway's page (?after=ID). Runs on its own thread
// until the build is over (SSE: 204 on reconnecting; WebSocket: close 1000)
// or stop(); the test reads what it received meanwhile.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace bscd::test {

struct ResumingViewerOptions {
    enum class Transport { Sse, WebSocket };
    Transport transport = Transport::Sse;
    // Wait before reconnecting. EventSource waits the stream's `retry:`
    // (2 s from the gateway); shorter keeps tests short.
    std::chrono::milliseconds retry = std::chrono::milliseconds(50);
};

class ResumingViewer {
public:
    using Options = ResumingViewerOptions;
    using Transport = Options::Transport;

    // Starts viewing 127.0.0.1:port `path` (e.g. /api/v1/projects/demo/events)
    // from the start of the history.
    ResumingViewer(int port, std::string path, Options options = {});
    ~ResumingViewer();  // stop()
    ResumingViewer(const ResumingViewer&) = delete;
    ResumingViewer& operator=(const ResumingViewer&) = delete;

    // The ids of the events received, in order (each one's own `id`; for
    // WebSocket the JSON's "id").
    std::vector<std::string> ids() const;
    std::size_t count() const;
    // Connections that got a stream (200 or 101), the first one included.
    std::size_t connections() const;
    // The server said the build is over; the thread has ended.
    bool finished() const;
    // Anything a browser would not accept: a malformed event, a status other
    // than 200, 204 or (while the gateway restarts) none at all.
    std::vector<std::string> errors() const;

    // Ends the thread (closing the connection); idempotent.
    void stop();

private:
    void run(const std::stop_token& stop);
    void view_sse(const std::stop_token& stop);
    void view_websocket(const std::stop_token& stop);
    void add(std::string id);
    void error(std::string what);
    std::string last_id() const;

    int port_;
    std::string path_;
    Options options_;

    mutable std::mutex mutex_;
    std::condition_variable_any wake_;  // stop() ends a retry wait at once
    std::vector<std::string> ids_;
    std::vector<std::string> errors_;
    std::size_t connections_ = 0;
    bool finished_ = false;

    std::jthread thread_;  // last: started when the rest exists
};

}  // namespace bscd::test
