#pragma once
// One Server-Sent Events viewer, blocking with deadlines: sends the GET,
// reads the response's status and headers, then events as the test asks
// for them. A test that stops asking stops reading (a slow viewer), and a
// small SO_RCVBUF makes its TCP window small from the start.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/blocking_socket.hpp"
#include "support/http_client.hpp"
#include "support/sse_stream.hpp"

namespace bscd::test {

struct SseClientOptions {
    HttpHeaders headers;     // e.g. Last-Event-ID, Authorization
    int receive_buffer = 0;  // SO_RCVBUF before connecting; 0: system default
    std::chrono::milliseconds timeout = std::chrono::seconds(5);  // connect and response head
    std::string source_address{};  // BlockingSocketOptions::source_address
};

class SseClient {
public:
    using Options = SseClientOptions;

    // Connects to 127.0.0.1:port, sends `GET target` and waits for the
    // response head. Throws std::runtime_error when it cannot connect, or no
    // (well-formed) head arrives in time.
    SseClient(int port, const std::string& target, const Options& options = {});

    int status() const { return decoder_.status(); }
    std::string header(std::string_view name) const { return decoder_.header(name); }
    const HttpHeaders& headers() const { return decoder_.headers(); }

    // The next event: nullopt when none arrives within `timeout` or the
    // stream ended first (ended() tells which).
    std::optional<SseEvent> next_event(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // The next estimate event (event: estimate), as next_event.
    std::optional<SseEvent> next_estimate(
        std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Events until `count` arrived, the stream ended or the deadline passed.
    std::vector<SseEvent> events(std::size_t count,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // The next comment line (": keepalive" gives "keepalive"), as next_event.
    std::optional<std::string> next_comment(
        std::chrono::milliseconds timeout = std::chrono::seconds(5));
    std::optional<int> retry() const { return parser_.retry(); }

    // Reads until the server ends the response (framing done, EOF or
    // reset), keeping the events that come meanwhile for next_event: true
    // when it ended within `timeout`.
    bool wait_ended(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // The server ended the response: its framing ended or the connection
    // closed (see close_error()).
    bool ended() const { return decoder_.body_done() || socket_.closed(); }
    const boost::system::error_code& close_error() const { return socket_.close_error(); }
    // The whole body received so far (for error responses, and for checking
    // the raw lines).
    const std::string& body() const { return body_; }
    // Malformed framing, if any.
    const std::string& error() const { return decoder_.error(); }

    void close() { socket_.close(); }

private:
    // Reads once more (until the deadline): false when nothing came.
    bool read_more(BlockingSocket::Clock::time_point deadline);

    BlockingSocket socket_;
    HttpStreamDecoder decoder_;
    SseParser parser_;
    std::string body_;
};

}  // namespace bscd::test
