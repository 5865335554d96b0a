#pragma once
// Splits a producer's byte stream into requests (docs/architecture.md,
// "Producer protocol"): a request ends at '\n' or at the end of the stream.
// Pure: bytes in, frames out.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace bscd {

struct Frame {
    std::string_view text;  // the request without its '\n' (empty if too_long)
    bool terminated;        // ended by '\n' (the client expects a reply line)
    bool too_long;          // longer than the limit; its bytes were dropped
};

class LineFramer {
public:
    explicit LineFramer(std::size_t max_length) : max_length_(max_length) {}

    // Feeds bytes as they arrive; calls on_frame for each request completed
    // by a '\n'. A line longer than max_length is dropped as it streams in
    // (memory stays bounded) and reported once, as a too_long frame, when
    // its '\n' arrives. The frame's text is valid only during the call.
    void feed(std::string_view bytes, const std::function<void(const Frame&)>& on_frame);

    // End of stream: the bytes after the last '\n', if any, as one
    // unterminated request (Pieman's client writes `10` and closes).
    // Resets the framer; the frame's text is valid until the next call.
    std::optional<Frame> finish();

    // Bytes held for the request in progress.
    [[nodiscard]] std::size_t buffered() const { return partial_.size(); }

private:
    std::size_t max_length_;
    std::string partial_;
    std::string finished_;  // text of the frame finish() returned
    bool overflowed_ = false;
};

}  // namespace bscd
