#include "server/producer_session.hpp"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "core/request.hpp"
#include "server/server.hpp"

namespace bscd {
namespace {

// The session's life in one table: the state after `event` in `state`.
// Closed is the end whatever happens; a write, once begun, is finished
// before the connection closes, unless it is lost.
SessionState after(SessionState state, SessionEvent event) {
    using S = SessionState;
    if (state == S::Closed) {
        return S::Closed;
    }
    switch (event) {
        case SessionEvent::NothingToReply:
            return S::Reading;
        case SessionEvent::Replies:
            return S::Replying;
        case SessionEvent::LastReplies:
        case SessionEvent::ExitAnswered:
            return S::Closing;
        case SessionEvent::ExitAccepted:
            return S::AwaitingExitAnswer;
        case SessionEvent::Written:
            return state == S::Replying ? S::Reading : S::Closed;
        case SessionEvent::Stop:
            return state == S::Replying || state == S::Closing ? S::Closing : S::Closed;
        case SessionEvent::Lost:
            return S::Closed;
    }
    return S::Closed;
}

}  // namespace

ProducerSession::ProducerSession(boost::asio::local::stream_protocol::socket socket, Server& server)
    : socket_(std::move(socket)),
      server_(server),
      peer_(peer_credentials(socket_.native_handle())),
      framer_(max_request_length),
      idle_timer_(socket_.get_executor()) {}

ProducerSession::~ProducerSession() {
    server_.sessions().leave(this);
}

void ProducerSession::start() {
    server_.sessions().join(this);
    spdlog::debug("Client connected: pid {} uid {}", peer_.pid, peer_.uid);
    last_activity_ = std::chrono::steady_clock::now();
    watch_idle();
    read();
}

void ProducerSession::on(SessionEvent event) {
    const SessionState before = state_;
    state_ = after(state_, event);
    switch (state_) {
        case SessionState::Reading:
            read();
            break;
        case SessionState::Replying:
        case SessionState::Closing:
            // Stop while replying: the write in flight is the last one.
            if (before != SessionState::Replying && before != SessionState::Closing) {
                write();
            }
            break;
        case SessionState::AwaitingExitAnswer:
            break;
        case SessionState::Closed:
            close_socket();
            break;
    }
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
        on(SessionEvent::Lost);
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
    const bool at_eof = ec == boost::asio::error::eof;
    if (at_eof) {
        // Pieman's client writes "10" with no newline and closes: that is a request.
        if (auto frame = framer_.finish()) {
            take(*frame);
        }
    }
    const RequestHandler::Answer answer = server_.handle(requests, *this);
    replies_ += answer.replies;
    if (answer.exit_requested) {
        replies_after_exit_ = answer.after_exit;
        on(SessionEvent::ExitAccepted);  // answered by the server once it has shut down
    } else if (!replies_.empty()) {
        on(at_eof ? SessionEvent::LastReplies : SessionEvent::Replies);
    } else {
        on(at_eof ? SessionEvent::Lost : SessionEvent::NothingToReply);
    }
}

void ProducerSession::write() {
    boost::asio::async_write(
        socket_, boost::asio::buffer(replies_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t /*size*/) {
            self->replies_.clear();
            // A client that closed gets no reply, and we don't mind.
            self->on(ec ? SessionEvent::Lost : SessionEvent::Written);
        });
}

void ProducerSession::answer_exit(const std::string& reply) {
    replies_ += reply;
    replies_ += '\n';
    replies_ += replies_after_exit_;
    on(SessionEvent::ExitAnswered);
}

void ProducerSession::watch_idle() {
    // Closed when silent for the idle timeout, or when a request begun that
    // long ago is still unfinished (a slowloris sending a byte now and then).
    const auto deadline = request_started_.value_or(last_activity_) + server_.idle_timeout();
    idle_timer_.expires_at(deadline);
    idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec || self->state_ == SessionState::Closed ||
            self->state_ == SessionState::AwaitingExitAnswer) {
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

void ProducerSession::close_socket() {
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
