#include "server/producer_session.hpp"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "core/request.hpp"
#include "server/server.hpp"

namespace bscd {

ProducerSession::ProducerSession(boost::asio::local::stream_protocol::socket socket, Server& server)
    : socket_(std::move(socket)),
      server_(server),
      peer_(peer_credentials(socket_.native_handle())),
      framer_(max_request_length),
      idle_timer_(socket_.get_executor()) {}

ProducerSession::~ProducerSession() {
    server_.leave(this);
}

void ProducerSession::start() {
    server_.join(this);
    spdlog::debug("Client connected: pid {} uid {}", peer_.pid, peer_.uid);
    last_activity_ = std::chrono::steady_clock::now();
    watch_idle();
    read();
}

void ProducerSession::read() {
    socket_.async_read_some(
        boost::asio::buffer(buffer_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t size) {
            self->on_read(ec, size);
        });
}

void ProducerSession::on_read(boost::system::error_code ec, std::size_t size) {
    if (ec && ec != boost::asio::error::eof) {
        if (ec != boost::asio::error::operation_aborted) {
            spdlog::debug("Client pid {}: read failed: {}", peer_.pid, ec.message());
        }
        close();
        return;
    }
    last_activity_ = std::chrono::steady_clock::now();
    std::vector<Request> requests;
    const auto take = [&](const Frame& frame) {
        requests.push_back(frame.too_long ? too_long_request()
                                          : parse_request(frame.text, server_.catalog()));
    };
    framer_.feed({buffer_.data(), size}, take);
    if (framer_.buffered() == 0) {
        request_started_.reset();
    } else if (!request_started_) {
        request_started_ = last_activity_;
    }
    at_eof_ = ec == boost::asio::error::eof;
    if (at_eof_) {
        // Pieman's client writes "10" with no newline and closes: that is a request.
        if (auto frame = framer_.finish()) {
            take(*frame);
        }
    }
    const Server::Answer answer = server_.handle(requests, *this);
    replies_ += answer.replies;
    if (answer.exit_requested) {
        exit_requested_ = true;
        replies_after_exit_ = answer.after_exit;
        return;  // answered by the server once it has shut down
    }
    if (!replies_.empty()) {
        write();
    } else if (at_eof_) {
        close();
    } else {
        read();
    }
}

void ProducerSession::write() {
    writing_ = true;
    boost::asio::async_write(
        socket_, boost::asio::buffer(replies_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t /*size*/) {
            self->writing_ = false;
            self->replies_.clear();
            if (ec || self->stopping_ || self->at_eof_) {
                self->close();  // a client that closed gets no reply, and we don't mind
                return;
            }
            self->read();
        });
}

void ProducerSession::answer_exit(const std::string& reply) {
    replies_ += reply;
    replies_ += '\n';
    replies_ += replies_after_exit_;
    stopping_ = true;  // close once it is written
    write();
}

void ProducerSession::stop() {
    stopping_ = true;
    if (!writing_) {
        close();
    }
}

void ProducerSession::watch_idle() {
    // Closed when silent for the idle timeout, or when a request begun that
    // long ago is still unfinished (a slowloris sending a byte now and then).
    const auto deadline = request_started_.value_or(last_activity_) + server_.idle_timeout();
    idle_timer_.expires_at(deadline);
    idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || !self->socket_.is_open() || self->exit_requested_) {
            return;
        }
        const auto timeout = self->server_.idle_timeout();
        const auto since = self->request_started_.value_or(self->last_activity_);
        if (std::chrono::steady_clock::now() - since >= timeout) {
            spdlog::info("Closing connection from pid {}: {} for {} ms", self->peer_.pid,
                         self->request_started_ ? "a request unfinished" : "silent",
                         timeout.count());
            self->close();
            return;
        }
        self->watch_idle();
    });
}

void ProducerSession::close() {
    if (!socket_.is_open()) {
        return;
    }
    if (rejected_ > rejections_logged) {
        spdlog::warn("Rejected {} more requests from pid {} (not logged one by one)",
                     rejected_ - rejections_logged, peer_.pid);
    }
    boost::system::error_code ignored;
    idle_timer_.cancel();
    socket_.shutdown(boost::asio::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
}

}  // namespace bscd
