#pragma once
// One Server-Sent Events response as it arrives, a read at a time: the HTTP
// head, the chunked framing (bscd-gateway sends the stream chunked), then
// the event stream's lines. Only what gateway_fanout needs: each code
// event's id and the "code" of its JSON data (estimate events are skipped).
// No I/O, so that thousands of viewers can share one thread.

#include <cstddef>
#include <string>
#include <string_view>

namespace bench {

class SseEventSink {
public:
    // A whole event (its blank line seen): its `id:` and the "code" of its
    // `data:` (-1 when absent).
    virtual void on_event(std::string_view id, int code) = 0;

protected:
    ~SseEventSink() = default;
};

class SseParser {
public:
    // Takes the next bytes of the response; calls sink.on_event() for each
    // event they complete. Stops taking bytes once failed() or ended().
    void feed(std::string_view bytes, SseEventSink& sink);

    // The head has come and says 200: the stream is open.
    [[nodiscard]] bool streaming() const { return state_ > State::head && !failed() && !ended(); }
    // Another status, a malformed response, or an over-long line or head.
    [[nodiscard]] bool failed() const { return state_ == State::failed; }
    // The server ended the stream (last chunk).
    [[nodiscard]] bool ended() const { return state_ == State::ended; }
    // Why failed() (a literal, or "HTTP <status>").
    [[nodiscard]] const std::string& error() const { return error_; }

private:
    enum class State { head, body, chunk_size, chunk_data, chunk_end, ended, failed };

    void parse_head(std::string_view head);
    void lines(std::string_view data, SseEventSink& sink);
    void line(std::string_view text, SseEventSink& sink);
    void fail(std::string why);

    State state_ = State::head;
    std::string framing_;  // an incomplete head or chunk-size line
    std::string line_;     // an incomplete event-stream line (it may span chunks)
    std::size_t chunk_left_ = 0;
    std::string id_;
    bool estimate_ = false;  // this event is an estimate message: not passed on
    int code_ = -1;
    bool has_fields_ = false;
    std::string error_;
};

}  // namespace bench
