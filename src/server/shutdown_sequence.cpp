#include "server/shutdown_sequence.hpp"

#include <csignal>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "server/producer_session.hpp"

namespace bscd {

ShutdownSequence::ShutdownSequence(boost::asio::io_context& io, const ServerOptions& options,
                                   Publisher& publisher, Spool* spool, ProducerSessions& sessions,
                                   std::function<void()> stop_accepting)
    : io_(io),
      options_(options),
      publisher_(publisher),
      spool_(spool),
      sessions_(sessions),
      stop_accepting_(std::move(stop_accepting)),
      signals_(io, SIGTERM, SIGINT),
      drain_timer_(io),
      linger_timer_(io) {
    sessions_.when_emptied([this] {
        if (state_ == ShutdownState::Finished) {
            linger_timer_.cancel();  // the last reply is out: nothing keeps the loop
        }
    });
}

void ShutdownSequence::arm() {
    if (!options_.pid_file.empty()) {
        pid_file_.emplace(options_.pid_file);
    }
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
        if (!ec) {
            request(signal == SIGTERM ? "SIGTERM" : "SIGINT");
        }
    });
}

void ShutdownSequence::request(const std::string& reason) {
    advance(ShutdownState::Draining, reason);
}

void ShutdownSequence::request_exit(const std::weak_ptr<ProducerSession>& requester, pid_t pid) {
    exit_requesters_.push_back(requester);
    if (state_ == ShutdownState::Finished) {
        // A late EXIT: answered once its session has taken in that it sent one.
        boost::asio::post(io_, [this] { answer_exits(); });
        return;
    }
    request("the EXIT request was sent by pid " + std::to_string(pid));
}

void ShutdownSequence::advance(ShutdownState next, const std::string& reason) {
    // Serving -> Draining -> Finished, each once; anything else changes nothing
    // (a second signal, the drain timeout after the publisher drained).
    const bool onwards = (state_ == ShutdownState::Serving && next == ShutdownState::Draining) ||
                         (state_ == ShutdownState::Draining && next == ShutdownState::Finished);
    if (!onwards) {
        return;
    }
    state_ = next;
    switch (next) {
        case ShutdownState::Draining:
            drain(reason);
            break;
        case ShutdownState::Finished:
            finish();
            break;
        case ShutdownState::Serving:
            break;
    }
}

void ShutdownSequence::drain(const std::string& reason) {
    spdlog::info("Shutting down the server since {}", reason);
    signals_.cancel();
    stop_accepting_();
    sessions_.stop_all_except(exit_requesters_);
    if (!publisher_.outbox().empty()) {
        spdlog::info("Waiting up to {} ms for Redis to take {} codes",
                     options_.shutdown_timeout.count(), publisher_.outbox().size());
    }
    drain_timer_.expires_after(options_.shutdown_timeout);
    drain_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            advance(ShutdownState::Finished);
        }
    });
    publisher_.when_drained(
        [this] { boost::asio::post(io_, [this] { advance(ShutdownState::Finished); }); });
}

void ShutdownSequence::finish() {
    drain_timer_.cancel();
    publisher_.stop();
    const auto& held = publisher_.outbox().entries();
    if (held.empty()) {
        spdlog::info("Every accepted code reached Redis ({} in all)", publisher_.confirmed());
        if (spool_ != nullptr) {
            spool_->empty();
        }
    } else {
        exit_status_ = 1;
        std::string codes;
        for (const auto& delivery : held) {
            codes += (codes.empty() ? "" : " ") + std::to_string(delivery.code->value);
        }
        spdlog::error("{} accepted codes for {} did not reach Redis: {}", held.size(),
                      options_.channel, codes);
        if (spool_ != nullptr) {
            spdlog::info("They stay in {}: bscd sends them when it starts again with it",
                         spool_->path());
        }
    }
    pid_file_.reset();  // Pieman's stop script waits for the pid file to go
    answer_exits();
}

void ShutdownSequence::answer_exits() {
    const std::string reply =
        exit_status_ == 0 ? "OK" : "ERR stopped with codes that did not reach Redis";
    for (auto& weak : std::exchange(exit_requesters_, {})) {
        if (auto session = weak.lock()) {
            session->answer_exit(reply);
        }
    }
    // A peer that does not read its last reply must not keep bscd alive.
    linger_timer_.expires_after(std::chrono::seconds(2));
    linger_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || sessions_.empty()) {  // emptied as the timer ran out: too late to cancel
            return;
        }
        spdlog::warn("Closing {} connections that did not take their last replies",
                     sessions_.size());
        sessions_.close_all();
    });
    if (sessions_.empty()) {
        linger_timer_.cancel();
    }
}

}  // namespace bscd
