#include "sse_parser.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bench {

namespace {

// Beyond these the peer is not the gateway we expect: fail rather than grow.
constexpr std::size_t max_head = std::size_t{16} * 1024;
constexpr std::size_t max_line = std::size_t{64} * 1024;

bool contains_ignoring_case(std::string_view text, std::string_view lower_needle) {
    const auto it = std::search(
        text.begin(), text.end(), lower_needle.begin(), lower_needle.end(),
        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    return it != text.end();
}

}  // namespace

void SseParser::feed(std::string_view bytes, SseEventSink& sink) {
    while (!bytes.empty()) {
        switch (state_) {
            case State::head: {
                // The end of the head may straddle two reads: search from a
                // little before what is new.
                const std::size_t from = framing_.size() < 3 ? 0 : framing_.size() - 3;
                framing_.append(bytes);
                const auto end = framing_.find("\r\n\r\n", from);
                if (end == std::string::npos) {
                    if (framing_.size() > max_head) {
                        fail("response head too long");
                    }
                    return;
                }
                const std::size_t taken = bytes.size() - (framing_.size() - (end + 4));
                bytes.remove_prefix(taken);
                parse_head(std::string_view(framing_).substr(0, end));
                framing_.clear();
                framing_.shrink_to_fit();  // thousands of viewers: keep each small
                break;
            }
            case State::body:
                lines(bytes, sink);
                return;
            case State::chunk_size: {
                const auto newline = bytes.find('\n');
                framing_.append(bytes.substr(0, newline));
                if (newline == std::string_view::npos) {
                    if (framing_.size() > 64) {
                        fail("chunk-size line too long");
                    }
                    return;
                }
                bytes.remove_prefix(newline + 1);
                std::size_t size = 0;
                const auto parsed =
                    std::from_chars(framing_.data(), framing_.data() + framing_.size(), size, 16);
                const bool valid = parsed.ec == std::errc{} && parsed.ptr != framing_.data();
                framing_.clear();
                if (!valid) {
                    fail("bad chunk size");
                    return;
                }
                chunk_left_ = size;
                state_ = size == 0 ? State::ended : State::chunk_data;
                break;
            }
            case State::chunk_data: {
                const std::size_t n = std::min(chunk_left_, bytes.size());
                lines(bytes.substr(0, n), sink);
                bytes.remove_prefix(n);
                chunk_left_ -= n;
                if (chunk_left_ == 0 && state_ == State::chunk_data) {
                    state_ = State::chunk_end;
                }
                break;
            }
            case State::chunk_end: {  // the CRLF after a chunk's data
                const auto newline = bytes.find('\n');
                if (newline == std::string_view::npos) {
                    return;
                }
                bytes.remove_prefix(newline + 1);
                state_ = State::chunk_size;
                break;
            }
            case State::ended:
            case State::failed:
                return;
        }
    }
}

void SseParser::parse_head(std::string_view head) {
    // "HTTP/1.1 200 OK"
    const auto space = head.find(' ');
    int status = 0;
    if (space != std::string_view::npos) {
        (void)std::from_chars(head.data() + space + 1, head.data() + head.size(), status);
    }
    if (status != 200) {
        fail("HTTP " + std::to_string(status));
        return;
    }
    state_ = contains_ignoring_case(head, "transfer-encoding: chunked") ? State::chunk_size
                                                                        : State::body;
}

void SseParser::lines(std::string_view data, SseEventSink& sink) {
    while (!data.empty() && state_ != State::failed) {
        const auto newline = data.find('\n');
        if (newline == std::string_view::npos) {
            line_.append(data);
            if (line_.size() > max_line) {
                fail("event-stream line too long");
            }
            return;
        }
        if (line_.empty()) {
            line(data.substr(0, newline), sink);  // the usual case: no copy
        } else {
            line_.append(data.substr(0, newline));
            line(line_, sink);
            line_.clear();
        }
        data.remove_prefix(newline + 1);
    }
}

void SseParser::line(std::string_view text, SseEventSink& sink) {
    if (!text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
    }
    if (text.empty()) {  // the end of an event
        if (has_fields_ && !estimate_) {
            sink.on_event(id_, code_);
        }
        id_.clear();
        code_ = -1;
        has_fields_ = false;
        estimate_ = false;
        return;
    }
    if (text.front() == ':') {
        return;  // a comment: the gateway's keep-alive
    }
    const auto colon = text.find(':');
    const std::string_view name = text.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    if (name == "id") {
        id_.assign(value);
        has_fields_ = true;
    } else if (name == "data") {
        has_fields_ = true;
        constexpr std::string_view key = "\"code\":";
        if (const auto at = value.find(key); at != std::string_view::npos) {
            (void)std::from_chars(value.data() + at + key.size(), value.data() + value.size(),
                                  code_);
        }
    } else if (name == "event") {
        has_fields_ = true;
        estimate_ = value == "estimate";  // the build's estimate, not a code
    }
    // "retry:" and unknown fields do not make an event.
}

void SseParser::fail(std::string why) {
    state_ = State::failed;
    error_ = std::move(why);
}

}  // namespace bench
