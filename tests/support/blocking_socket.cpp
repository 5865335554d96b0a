#include "support/blocking_socket.hpp"

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

namespace bscd::test {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t read_buffer_size = std::size_t{16} * 1024;

}  // namespace

template <typename Done>
bool BlockingSocket::run_until(Done done, Clock::time_point deadline) {
    io_.restart();
    while (!done()) {
        if (Clock::now() >= deadline) {
            return false;
        }
        if (io_.run_one_until(deadline) == 0 && io_.stopped()) {
            return done();  // no work left that could change it
        }
    }
    return true;
}

BlockingSocket::BlockingSocket(int port, const Options& options)
    : socket_(io_), buffer_(read_buffer_size) {
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"),
                                 static_cast<unsigned short>(port));
    socket_.open(tcp::v4());
    if (options.receive_buffer > 0) {
        socket_.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer));
    }
    if (!options.source_address.empty()) {
        socket_.bind(tcp::endpoint(asio::ip::make_address_v4(options.source_address), 0));
    }
    bool connected = false;
    error_code result;
    socket_.async_connect(endpoint, [&](const error_code& ec) {
        connected = true;
        result = ec;
    });
    const std::string where = "127.0.0.1:" + std::to_string(port);
    if (!run_until([&] { return connected; }, Clock::now() + options.connect_timeout)) {
        socket_.close();
        throw std::runtime_error("connect to " + where + ": timed out");
    }
    if (result) {
        throw std::runtime_error("connect to " + where + ": " + result.message());
    }
}

void BlockingSocket::write(std::string_view bytes, std::chrono::milliseconds timeout) {
    if (!socket_.is_open()) {
        throw std::runtime_error("write: the connection is closed");
    }
    bool written = false;
    error_code result;
    asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                      [&](const error_code& ec, std::size_t) {
                          written = true;
                          result = ec;
                      });
    if (!run_until([&] { return written; }, Clock::now() + timeout)) {
        close();
        run_until([&] { return written; }, Clock::now() + std::chrono::seconds(1));
        throw std::runtime_error("write: timed out");
    }
    if (result) {
        throw std::runtime_error("write: " + result.message());
    }
}

void BlockingSocket::start_read() {
    reading_ = true;
    socket_.async_read_some(asio::buffer(buffer_), [this](const error_code& ec, std::size_t n) {
        reading_ = false;
        arrived_.append(buffer_.data(), n);
        if (ec) {
            closed_ = true;
            close_error_ = ec;
        }
    });
}

bool BlockingSocket::read_some(std::string& out, Clock::time_point deadline) {
    if (arrived_.empty() && !closed_) {
        if (!reading_) {
            start_read();
        }
        run_until([&] { return !reading_; }, deadline);
    }
    if (arrived_.empty()) {
        return false;
    }
    out += arrived_;
    arrived_.clear();
    return true;
}

bool BlockingSocket::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string discarded;
    while (!closed_ && Clock::now() < deadline) {
        read_some(discarded, deadline);
        discarded.clear();
    }
    return closed_;
}

void BlockingSocket::shutdown_send() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

void BlockingSocket::close() {
    error_code ignored;
    socket_.close(ignored);
    if (!closed_) {
        closed_ = true;
        close_error_ = asio::error::operation_aborted;
    }
}

}  // namespace bscd::test
