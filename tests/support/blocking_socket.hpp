#pragma once
// A TCP connection to 127.0.0.1 with its own io_context, so that every
// operation blocks with a deadline. A read that reaches its deadline stays
// pending rather than being cancelled: the connection remains usable, and
// bytes that arrive later go to the next call.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace bscd::test {

struct BlockingSocketOptions {
    // SO_RCVBUF set before connecting (so that the TCP window is small from
    // the start); 0 leaves the system default.
    int receive_buffer = 0;
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
    // The loopback address to connect from (e.g. "127.0.0.2", any of
    // 127.0.0.0/8 works on Linux), so that a test has clients of different
    // addresses; empty: the system's choice (127.0.0.1).
    std::string source_address{};
};

class BlockingSocket {
public:
    using Clock = std::chrono::steady_clock;
    using Options = BlockingSocketOptions;

    // Connects to 127.0.0.1:port. Throws std::runtime_error naming the port
    // and the cause on failure or timeout.
    explicit BlockingSocket(int port, const Options& options = {});
    BlockingSocket(const BlockingSocket&) = delete;
    BlockingSocket& operator=(const BlockingSocket&) = delete;

    // Writes all of `bytes`. Throws std::runtime_error on an error, or when
    // it did not complete in time (the connection is closed then).
    void write(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // Waits for bytes and appends them to `out`: true when some arrived;
    // false when the peer closed or reset the connection (closed() is true)
    // or the deadline passed.
    bool read_some(std::string& out, Clock::time_point deadline);

    // Reads and discards until the peer closes or resets the connection:
    // true when it did within `timeout`.
    bool wait_closed(std::chrono::milliseconds timeout);

    // True once the peer closed or reset the connection (or close() was
    // called); close_error() says how (eof, connection_reset, ...).
    bool closed() const { return closed_; }
    const boost::system::error_code& close_error() const { return close_error_; }

    // Half-closes the sending side (the peer reads end of stream).
    void shutdown_send();
    // Closes our side; pending operations end.
    void close();

private:
    void start_read();
    // Runs handlers until `done()` or the deadline; false at the deadline.
    template <typename Done>
    bool run_until(Done done, Clock::time_point deadline);

    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
    std::vector<char> buffer_;
    std::string arrived_;  // read by a completed read, not handed out yet
    bool reading_ = false;
    bool closed_ = false;
    boost::system::error_code close_error_;
};

}  // namespace bscd::test
