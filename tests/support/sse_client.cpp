#include "support/sse_client.hpp"

#include <stdexcept>

namespace bscd::test {

SseClient::SseClient(int port, const std::string& target, const Options& options)
    : socket_(port, {.receive_buffer = options.receive_buffer,
                     .connect_timeout = options.timeout,
                     .source_address = options.source_address}) {
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nAccept: text/event-stream\r\n";
    for (const auto& [key, value] : options.headers) {
        request.append(key).append(": ").append(value).append("\r\n");
    }
    request += "\r\n";
    socket_.write(request, options.timeout);
    const auto deadline = BlockingSocket::Clock::now() + options.timeout;
    while (!decoder_.head_done()) {
        if (!read_more(deadline)) {
            throw std::runtime_error(
                "GET " + target + ": " +
                (decoder_.error().empty()
                     ? socket_.closed() ? "closed without a response" : "no response head in time"
                     : decoder_.error()));
        }
    }
}

bool SseClient::read_more(BlockingSocket::Clock::time_point deadline) {
    if (!decoder_.error().empty()) {
        return false;
    }
    std::string bytes;
    if (!socket_.read_some(bytes, deadline)) {
        return false;
    }
    const std::size_t before = body_.size();
    if (!decoder_.feed(bytes, body_)) {
        return false;
    }
    parser_.feed(std::string_view(body_).substr(before));
    return true;
}

std::optional<SseEvent> SseClient::next_event(std::chrono::milliseconds timeout) {
    const auto deadline = BlockingSocket::Clock::now() + timeout;
    while (parser_.events().empty()) {
        if (decoder_.body_done() || !read_more(deadline)) {
            return std::nullopt;
        }
    }
    return parser_.take_event();
}

std::optional<SseEvent> SseClient::next_estimate(std::chrono::milliseconds timeout) {
    const auto deadline = BlockingSocket::Clock::now() + timeout;
    while (parser_.estimates().empty()) {
        if (decoder_.body_done() || !read_more(deadline)) {
            return std::nullopt;
        }
    }
    return parser_.take_estimate();
}

std::vector<SseEvent> SseClient::events(std::size_t count, std::chrono::milliseconds timeout) {
    const auto deadline = BlockingSocket::Clock::now() + timeout;
    std::vector<SseEvent> result;
    while (result.size() < count) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - BlockingSocket::Clock::now());
        auto event = next_event(std::max(left, std::chrono::milliseconds(0)));
        if (!event) {
            break;
        }
        result.push_back(std::move(*event));
    }
    return result;
}

std::optional<std::string> SseClient::next_comment(std::chrono::milliseconds timeout) {
    const auto deadline = BlockingSocket::Clock::now() + timeout;
    while (parser_.comments().empty()) {
        if (decoder_.body_done() || !read_more(deadline)) {
            return std::nullopt;
        }
    }
    return parser_.take_comment();
}

bool SseClient::wait_ended(std::chrono::milliseconds timeout) {
    const auto deadline = BlockingSocket::Clock::now() + timeout;
    while (!ended()) {
        if (!read_more(deadline) && !ended()) {
            return false;
        }
    }
    return true;
}

}  // namespace bscd::test
