#pragma once
// Incremental decoding of a Server-Sent Events response, fed with whatever
// bytes arrived: HttpStreamDecoder takes the response head and the body's
// framing (chunked, Content-Length or until the end of the connection) off,
// SseParser cuts the body into events and comment lines (WHATWG HTML,
// "event stream interpretation"). No I/O: shared by SseClient and SseSwarm.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support/http_client.hpp"

namespace bscd::test {

class HttpStreamDecoder {
public:
    // Feeds bytes of the response; body bytes (without chunk framing) are
    // appended to `body`. False once the response is malformed (error()).
    bool feed(std::string_view bytes, std::string& body);

    bool head_done() const { return state_ != State::Head; }
    int status() const { return status_; }
    const std::string& reason() const { return reason_; }
    const HttpHeaders& headers() const { return headers_; }
    // The first value of header `name` (case-insensitive); "" when absent.
    std::string header(std::string_view name) const;
    // The body ended within the framing (last chunk, Content-Length reached);
    // a body delimited by the connection's end never says so.
    bool body_done() const { return state_ == State::Done; }
    const std::string& error() const { return error_; }
    // Forgets the headers (keeps status): for many viewers in little memory.
    void drop_headers() { HttpHeaders().swap(headers_); }

private:
    enum class State { Head, ChunkSize, ChunkData, ChunkDataEnd, Trailers, Sized, Unsized, Done };
    bool parse_head(std::string_view head);
    bool fail(std::string reason);

    State state_ = State::Head;
    std::string carry_;  // an incomplete head, chunk-size or trailer line
    std::uint64_t left_ = 0;
    int status_ = 0;
    std::string reason_;
    HttpHeaders headers_;
    std::string error_;
};

struct SseEvent {
    std::string id;     // the event's own `id:` field; "" when it had none
    std::string event;  // `event:`; "" when none (the type is then "message")
    std::string data;   // `data:` lines joined with "\n"
    int data_lines = 0;
    std::vector<std::string> other_lines;  // fields of any other name, and `retry:`, verbatim
};

// Queues in vectors, not deques: a default std::deque allocates over 500
// bytes, which thousands of viewers (SseSwarm) would each pay twice.
class SseParser {
public:
    // Feeds body bytes; complete events and comments are queued.
    void feed(std::string_view bytes);

    // Complete events not taken yet, oldest first; estimate events (event:
    // estimate) are kept apart.
    std::span<const SseEvent> events() const { return std::span(events_).subspan(events_taken_); }
    std::optional<SseEvent> take_event();
    void clear_events();
    std::span<const SseEvent> estimates() const { return estimates_; }
    std::optional<SseEvent> take_estimate();
    // Comment lines (after the ':', one leading space removed), in order.
    std::span<const std::string> comments() const {
        return std::span(comments_).subspan(comments_taken_);
    }
    std::optional<std::string> take_comment();
    void clear_comments();

    std::optional<int> retry() const { return retry_; }
    // Bytes received after the last complete line.
    const std::string& partial_line() const { return line_; }

private:
    void line(std::string_view text);
    void dispatch();

    std::string line_;
    bool after_cr_ = false;
    SseEvent current_;
    bool has_fields_ = false;
    std::vector<SseEvent> events_;
    std::size_t events_taken_ = 0;
    std::vector<SseEvent> estimates_;
    std::vector<std::string> comments_;
    std::size_t comments_taken_ = 0;
    std::optional<int> retry_;
};

}  // namespace bscd::test
