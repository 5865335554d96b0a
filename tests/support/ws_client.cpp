#include "support/ws_client.hpp"

#include <stdexcept>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/error.hpp>

namespace bscd::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// Runs `io` until `done()` or the deadline: false at the deadline.
template <typename Done>
bool run_until(asio::io_context& io, Done done, WsClient::Clock::time_point deadline) {
    io.restart();
    while (!done()) {
        if (WsClient::Clock::now() >= deadline) {
            return false;
        }
        if (io.run_one_until(deadline) == 0 && io.stopped()) {
            return done();
        }
    }
    return true;
}

}  // namespace

WsClient::WsClient(int port, const std::string& target, const HttpHeaders& headers,
                   std::chrono::milliseconds timeout)
    : ws_(io_) {
    const auto deadline = Clock::now() + timeout;
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"),
                                 static_cast<unsigned short>(port));
    bool done = false;
    error_code result;
    beast::get_lowest_layer(ws_).async_connect(endpoint, [&](const error_code& ec) {
        done = true;
        result = ec;
    });
    if (!run_until(
            io_, [&] { return done; }, deadline) ||
        result) {
        throw std::runtime_error("WebSocket connect to port " + std::to_string(port) + ": " +
                                 (result ? result.message() : "timed out"));
    }
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
        for (const auto& [key, value] : headers) {
            request.set(key, value);
        }
    }));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::ping) {
            ++pings_;
        }
    });
    websocket::response_type response;
    done = false;
    ws_.async_handshake(response, "127.0.0.1:" + std::to_string(port), target,
                        [&](const error_code& ec) {
                            done = true;
                            result = ec;
                        });
    if (!run_until(
            io_, [&] { return done; }, deadline)) {
        throw std::runtime_error("WebSocket handshake for " + target + ": timed out");
    }
    if (result) {
        if (response.result_int() != 0 && response.result_int() != 101) {
            throw std::runtime_error("HTTP " + std::to_string(response.result_int()) + " " +
                                     std::string(response.reason()) + ": " + response.body());
        }
        throw std::runtime_error("WebSocket handshake for " + target + ": " + result.message());
    }
}

WsClient::~WsClient() {
    error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
}

void WsClient::start_read() {
    reading_ = true;
    ws_.async_read(buffer_, [this](const error_code& ec, std::size_t) {
        reading_ = false;
        if (ec) {
            closed_ = true;
            close_error_ = ec;
            // A close frame came: its code, also when the closing handshake
            // ended with a transport error (the server closed first, which
            // a loaded machine makes the client see as ENOTCONN or a reset).
            if (ec == websocket::error::closed ||
                ws_.reason().code != websocket::close_code::none) {
                close_code_ = static_cast<int>(ws_.reason().code);
            }
            return;
        }
        if (ws_.got_text()) {
            std::string message = beast::buffers_to_string(buffer_.data());
            (message.starts_with(R"({"type":"estimate")") ? estimates_ : messages_)
                .push_back(std::move(message));
        } else {
            ++binary_messages_;
        }
        buffer_.consume(buffer_.size());
    });
}

bool WsClient::run_until_idle(Clock::time_point deadline) {
    if (!reading_ && !closed_) {
        start_read();
    }
    return run_until(
        io_, [&] { return !reading_; }, deadline);
}

std::optional<std::string> WsClient::next_text(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (messages_.empty()) {
        if (closed_ || !run_until_idle(deadline)) {
            return std::nullopt;
        }
    }
    std::string message = std::move(messages_.front());
    messages_.pop_front();
    return message;
}

std::optional<std::string> WsClient::next_estimate(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (estimates_.empty()) {
        if (closed_ || !run_until_idle(deadline)) {
            return std::nullopt;
        }
    }
    std::string message = std::move(estimates_.front());
    estimates_.pop_front();
    return message;
}

bool WsClient::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_) {
        if (!run_until_idle(deadline)) {
            return false;
        }
    }
    return true;
}

void WsClient::send_text(const std::string& text) {
    bool done = false;
    error_code result;
    ws_.text(true);
    ws_.async_write(asio::buffer(text), [&](const error_code& ec, std::size_t) {
        done = true;
        result = ec;
    });
    if (!run_until(
            io_, [&] { return done; }, Clock::now() + std::chrono::seconds(5)) ||
        result) {
        throw std::runtime_error("WebSocket write: " + (result ? result.message() : "timed out"));
    }
}

}  // namespace bscd::test
