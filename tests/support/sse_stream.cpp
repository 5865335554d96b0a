#include "support/sse_stream.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bscd::test {
namespace {

constexpr std::size_t max_head = std::size_t{64} * 1024;
constexpr std::size_t max_line = 4096;

std::string lower(std::string_view text) {
    std::string result(text);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return result;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

// Takes one line (through '\n') off `data`, completing what `carry` holds:
// the line without its CRLF, or nullopt when it is not complete yet (its
// start is then in `carry`).
std::optional<std::string> take_line(std::string_view& data, std::string& carry) {
    const auto newline = data.find('\n');
    if (newline == std::string_view::npos) {
        carry.append(data);
        data = {};
        return std::nullopt;
    }
    std::string line = std::move(carry);
    carry.clear();
    line.append(data.substr(0, newline));
    data.remove_prefix(newline + 1);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

}  // namespace

bool HttpStreamDecoder::fail(std::string reason) {
    error_ = std::move(reason);
    return false;
}

std::string HttpStreamDecoder::header(std::string_view name) const {
    const std::string wanted = lower(name);
    for (const auto& [key, value] : headers_) {
        if (lower(key) == wanted) {
            return value;
        }
    }
    return {};
}

bool HttpStreamDecoder::parse_head(std::string_view head) {
    const auto first_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, first_end);
    // HTTP/1.1 200 OK
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/" || status_line[8] != ' ') {
        return fail("bad status line: " + std::string(status_line));
    }
    const auto code = status_line.substr(9, 3);
    if (std::from_chars(code.data(), code.data() + code.size(), status_).ec != std::errc{}) {
        return fail("bad status line: " + std::string(status_line));
    }
    reason_ = status_line.size() > 13 ? std::string(status_line.substr(13)) : std::string();
    std::string_view rest =
        first_end == std::string_view::npos ? std::string_view{} : head.substr(first_end + 2);
    while (!rest.empty()) {
        const auto end = rest.find("\r\n");
        const std::string_view field = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 2);
        const auto colon = field.find(':');
        if (colon == std::string_view::npos) {
            return fail("bad header line: " + std::string(field));
        }
        headers_.emplace_back(std::string(field.substr(0, colon)),
                              std::string(trim(field.substr(colon + 1))));
    }
    if (status_ / 100 == 1 || status_ == 204 || status_ == 304) {
        state_ = State::Done;
    } else if (lower(header("Transfer-Encoding")).find("chunked") != std::string::npos) {
        state_ = State::ChunkSize;
    } else if (const std::string length = header("Content-Length"); !length.empty()) {
        if (std::from_chars(length.data(), length.data() + length.size(), left_).ec !=
            std::errc{}) {
            return fail("bad Content-Length: " + length);
        }
        state_ = left_ == 0 ? State::Done : State::Sized;
    } else {
        state_ = State::Unsized;
    }
    return true;
}

bool HttpStreamDecoder::feed(std::string_view bytes, std::string& body) {
    if (!error_.empty()) {
        return false;
    }
    if (state_ == State::Head) {
        const std::size_t searched_from = carry_.size() < 3 ? 0 : carry_.size() - 3;
        carry_.append(bytes);
        const auto end = carry_.find("\r\n\r\n", searched_from);
        if (end == std::string::npos) {
            return carry_.size() <= max_head || fail("response head too long");
        }
        const std::string head = carry_.substr(0, end);
        const std::string after = carry_.substr(end + 4);
        carry_.clear();
        if (!parse_head(head)) {
            return false;
        }
        return feed(after, body);
    }
    std::string_view data = bytes;
    while (!data.empty()) {
        switch (state_) {
            case State::Head:
            case State::Done:
                return true;  // anything after the response is not ours
            case State::Unsized:
                body.append(data);
                return true;
            case State::Sized:
            case State::ChunkData: {
                const auto n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(left_, data.size()));
                body.append(data.substr(0, n));
                data.remove_prefix(n);
                left_ -= n;
                if (left_ == 0) {
                    state_ = state_ == State::Sized ? State::Done : State::ChunkDataEnd;
                }
                break;
            }
            case State::ChunkSize:
            case State::ChunkDataEnd:
            case State::Trailers: {
                const auto line = take_line(data, carry_);
                if (!line) {
                    return carry_.size() <= max_line || fail("chunk framing line too long");
                }
                if (state_ == State::ChunkDataEnd) {
                    if (!line->empty()) {
                        return fail("no CRLF after chunk data");
                    }
                    state_ = State::ChunkSize;
                } else if (state_ == State::Trailers) {
                    if (line->empty()) {
                        state_ = State::Done;
                    }
                } else {
                    const std::string_view size = trim(
                        std::string_view(*line).substr(0, std::min(line->find(';'), line->size())));
                    if (size.empty() ||
                        std::from_chars(size.data(), size.data() + size.size(), left_, 16).ec !=
                            std::errc{}) {
                        return fail("bad chunk size line: " + *line);
                    }
                    state_ = left_ == 0 ? State::Trailers : State::ChunkData;
                }
                break;
            }
        }
    }
    return true;
}

void SseParser::feed(std::string_view bytes) {
    for (const char c : bytes) {
        if (after_cr_ && c == '\n') {  // the LF of a CRLF
            after_cr_ = false;
            continue;
        }
        after_cr_ = c == '\r';
        if (c == '\r' || c == '\n') {
            line(line_);
            line_.clear();
        } else {
            line_.push_back(c);
        }
    }
}

void SseParser::line(std::string_view text) {
    if (text.empty()) {
        dispatch();
        return;
    }
    if (text.front() == ':') {
        text.remove_prefix(1);
        if (!text.empty() && text.front() == ' ') {
            text.remove_prefix(1);
        }
        comments_.emplace_back(text);
        return;
    }
    const auto colon = text.find(':');
    const std::string_view name = text.substr(0, colon);
    std::string_view value =
        colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    if (name == "retry") {
        int ms = 0;
        if (std::from_chars(value.data(), value.data() + value.size(), ms).ec == std::errc{}) {
            retry_ = ms;
        }
        return;
    }
    has_fields_ = true;
    if (name == "id") {
        current_.id = std::string(value);
    } else if (name == "event") {
        current_.event = std::string(value);
    } else if (name == "data") {
        if (current_.data_lines++ > 0) {
            current_.data.push_back('\n');
        }
        current_.data.append(value);
    } else {
        current_.other_lines.emplace_back(text);
    }
}

std::optional<SseEvent> SseParser::take_event() {
    if (events_taken_ == events_.size()) {
        return std::nullopt;
    }
    SseEvent event = std::move(events_[events_taken_++]);
    if (events_taken_ == events_.size()) {
        clear_events();
    }
    return event;
}

std::optional<SseEvent> SseParser::take_estimate() {
    if (estimates_.empty()) {
        return std::nullopt;
    }
    SseEvent estimate = std::move(estimates_.front());
    estimates_.erase(estimates_.begin());
    return estimate;
}

void SseParser::clear_events() {
    events_.clear();
    events_taken_ = 0;
}

std::optional<std::string> SseParser::take_comment() {
    if (comments_taken_ == comments_.size()) {
        return std::nullopt;
    }
    std::string comment = std::move(comments_[comments_taken_++]);
    if (comments_taken_ == comments_.size()) {
        clear_comments();
    }
    return comment;
}

void SseParser::clear_comments() {
    comments_.clear();
    comments_taken_ = 0;
}

void SseParser::dispatch() {
    if (has_fields_) {
        (current_.event == "estimate" ? estimates_ : events_).push_back(std::move(current_));
    }
    current_ = SseEvent{};
    has_fields_ = false;
}

}  // namespace bscd::test
