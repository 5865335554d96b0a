#include "gateway/listener.hpp"

#include <algorithm>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <string_view>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gateway/gateway.hpp"
#include "gateway/http_session.hpp"
#include "gateway/lingering_close.hpp"

namespace bscd {

namespace ip = boost::asio::ip;

namespace {

// For a connection there is no room for: over --max-connections, or out of
// descriptors. Short, so that it always fits a new socket's buffer at once.
constexpr std::string_view busy_reply =
    "HTTP/1.1 503 Service Unavailable\r\nServer: bscd-gateway\r\nRetry-After: 1\r\n"
    "Content-Type: application/json\r\nContent-Length: 37\r\nConnection: close\r\n\r\n"
    "{\"error\":\"too many connections open\"}";

bool out_of_descriptors_error(const boost::system::error_code& ec) {
    return ec == boost::asio::error::no_descriptors ||                // EMFILE: this process
           ec == boost::system::errc::too_many_files_open_in_system;  // ENFILE
}

}  // namespace

Listener::Listener(Gateway& gateway)
    : gateway_(gateway), acceptor_(gateway.io()), retry_timer_(gateway.io()) {}

void Listener::start() {
    const auto& options = gateway_.options();
    const std::string where = fmt::format("{}:{}", options.listen_address, options.listen_port);
    boost::system::error_code ec;
    const auto address = ip::make_address(options.listen_address, ec);
    if (ec) {
        throw std::runtime_error(
            fmt::format("cannot listen on {}: not an IP address ({})", where, ec.message()));
    }
    const ip::tcp::endpoint endpoint(address, options.listen_port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor_.set_option(ip::tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        throw std::runtime_error(fmt::format("cannot listen on {}: {}", where, ec.message()));
    }
    const auto bound = acceptor_.local_endpoint();
    spdlog::info("Listening on http://{}:{}",
                 bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                         : bound.address().to_string(),
                 bound.port());
    accept();
}

void Listener::close() {
    boost::system::error_code ignored;
    retry_timer_.cancel();
    acceptor_.close(ignored);
}

void Listener::accept() {
    // Straight onto the loop that will hold the connection.
    ViewerLoop& loop = gateway_.next_loop();
    acceptor_.async_accept(loop.io(), [self = shared_from_this(), &loop](
                                          boost::system::error_code ec, ip::tcp::socket peer) {
        self->on_accept(ec, std::move(peer), loop);
    });
}

void Listener::on_accept(boost::system::error_code ec, ip::tcp::socket peer, ViewerLoop& loop) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) {
        return;
    }
    if (out_of_descriptors_error(ec)) {
        out_of_descriptors(ec);
        return;
    }
    if (ec == boost::asio::error::no_buffer_space) {
        spdlog::warn("Cannot accept HTTP connections: {}; retrying in 100 ms", ec.message());
        retry_later();
        return;
    }
    if (exhausted_ && !ec) {
        exhausted_ = false;
        spdlog::info("Descriptors free again: accepting HTTP connections");
    }
    if (ec) {
        spdlog::warn("Accept failed: {}", ec.message());
    } else if (gateway_.at_capacity()) {
        refuse(std::move(peer));
    } else {
        peer.set_option(ip::tcp::no_delay(true), ec);  // events are small and should go at once
        // A viewer gone without a reset would otherwise hold its connection
        // until TCP gives up retransmitting (about 15 minutes): data left
        // unacknowledged this long ends the connection.
        const auto unacknowledged = std::max<std::chrono::milliseconds>(
            std::chrono::seconds(30), 2 * gateway_.options().heartbeat);
        const int timeout_ms = static_cast<int>(unacknowledged.count());
        (void)::setsockopt(peer.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms,
                           sizeof timeout_ms);
        boost::asio::post(
            loop.io(), [&loop, peer = std::move(peer), slot = Gateway::Slot(gateway_)]() mutable {
                std::make_shared<HttpSession>(std::move(peer), loop, std::move(slot))->start();
            });
    }
    accept();
}

void Listener::retry_later() {
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
        if (!wait_ec) {
            self->accept();
        }
    });
}

void Listener::out_of_descriptors(boost::system::error_code ec) {
    if (!exhausted_) {  // once per episode: a flood would otherwise flood the log
        exhausted_ = true;
        spdlog::warn(
            "Out of descriptors ({}, {} connections open): new connections get 503 "
            "until some close",
            ec.message(), gateway_.connections());
    }
    // The client gets an answer now instead of waiting in the backlog.
    if (reserve_.refuse_one(acceptor_.native_handle(), busy_reply)) {
        gateway_.count_refused();
        accept();
        return;
    }
    spdlog::debug("Cannot accept HTTP connections: {}; retrying in 100 ms", ec.message());
    retry_later();
}

void Listener::refuse(ip::tcp::socket peer) {
    gateway_.count_refused();
    spdlog::warn("Refused a connection: {} connections already open", gateway_.connections());
    auto stream = std::make_shared<boost::beast::tcp_stream>(std::move(peer));
    stream->expires_after(std::chrono::seconds(1));
    boost::asio::async_write(*stream, boost::asio::buffer(busy_reply),
                             [stream](boost::system::error_code ec, std::size_t /*bytes*/) {
                                 if (!ec) {
                                     lingering_close(stream);
                                 }
                             });
}

}  // namespace bscd
