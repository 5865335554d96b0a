#pragma once
// A WebSocket client for tests (Boost.Beast), blocking with deadlines. A read
// that reaches its deadline stays pending, so the client stays usable; pings
// are answered and the server's close frame recorded while reading.

#include <chrono>
#include <deque>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "support/http_client.hpp"

namespace bscd::test {

class WsClient {
public:
    using Clock = std::chrono::steady_clock;

    // Connects to 127.0.0.1:port and performs the handshake for `target`
    // with extra `headers`. Throws std::runtime_error on failure; when the
    // server answered the upgrade with another status, the message starts
    // with "HTTP <status>".
    WsClient(int port, const std::string& target, const HttpHeaders& headers = {},
             std::chrono::milliseconds timeout = std::chrono::seconds(5));
    ~WsClient();
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    // The next text message that is a code's event: nullopt when none
    // arrives within `timeout` or the connection closed first (closed()
    // tells which). Estimate messages ({"type":"estimate"...}) are kept
    // apart, for next_estimate.
    std::optional<std::string> next_text(
        std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // The next estimate message, as next_text.
    std::optional<std::string> next_estimate(
        std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Reads until the connection closes, keeping messages for next_text:
    // true when it closed within `timeout`.
    bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    bool closed() const { return closed_; }
    // The server's close frame code (1000 normal); nullopt when the
    // connection ended without one (or is open).
    std::optional<int> close_code() const { return close_code_; }
    // How the connection ended (websocket::error::closed after a close frame).
    const boost::system::error_code& close_error() const { return close_error_; }
    // Binary messages received (the gateway sends none).
    int binary_messages() const { return binary_messages_; }
    // Pings received (answered by Beast) while reading.
    int pings() const { return pings_; }

    // Sends a text message (the gateway ignores them).
    void send_text(const std::string& text);

private:
    void start_read();
    bool run_until_idle(Clock::time_point deadline);

    boost::asio::io_context io_;
    boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
    boost::beast::flat_buffer buffer_;
    std::deque<std::string> messages_;
    std::deque<std::string> estimates_;
    bool reading_ = false;
    bool closed_ = false;
    int binary_messages_ = 0;
    int pings_ = 0;
    std::optional<int> close_code_;
    boost::system::error_code close_error_;
};

}  // namespace bscd::test
