#pragma once
// One conversation with bscd over its Unix stream socket (docs/architecture.md,
// "Producer protocol"), bounded by a single deadline: connect, write requests,
// read reply lines.
// Plain POSIX sockets and poll(): bsc runs once per build stage, so start-up
// must stay cheap.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bscd::client {

class ProducerConnection {
public:
    using Clock = std::chrono::steady_clock;

    // Connects to the socket at `path`; the whole conversation (this and
    // every later call) must finish within `timeout`. Throws ClientError with a line for the user:
    // "<path> does not exist", "connection refused: <path> ...", "<path> is not a socket",
    // "permission denied: <path>", or bscd not accepting in time.
    ProducerConnection(const std::string& path, std::chrono::milliseconds timeout);
    ~ProducerConnection();
    ProducerConnection(const ProducerConnection&) = delete;
    ProducerConnection& operator=(const ProducerConnection&) = delete;

    enum class WriteResult { Written, PeerClosed, TimedOut };
    // Writes all of `bytes` (never raises SIGPIPE). PeerClosed when bscd
    // closed its end first: the replies it sent before may still be read.
    // Throws ClientError on other I/O errors.
    WriteResult write_all(std::string_view bytes);

    static constexpr std::size_t max_reply_length = 4096;

    enum class ReadStatus { Line, Closed, TimedOut };
    struct ReadResult {
        ReadStatus status;
        std::string line;  // Line: without its "\n" (nor a "\r" before it)
    };
    // The next reply line. Closed when the stream ended (or was reset) before
    // a complete line. Throws ClientError on other I/O errors and on a line
    // longer than max_reply_length.
    ReadResult read_line();

private:
    // Waits until fd_ is ready for `events`; false at the deadline.
    bool wait_for(short events) const;

    std::string path_;
    std::chrono::milliseconds timeout_;
    Clock::time_point deadline_;
    int fd_ = -1;
    std::string buffer_;  // bytes read past the last returned line
};

// "5 s", "0.5 s", "0.001 s": a timeout as the user wrote it in seconds.
std::string format_seconds(std::chrono::milliseconds duration);

}  // namespace bscd::client
