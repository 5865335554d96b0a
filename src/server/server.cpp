#include "server/server.hpp"

#include <csignal>

#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "server/listener.hpp"
#include "server/producer_session.hpp"

namespace bscd {

Server::Server(boost::asio::io_context& io, const ServerOptions& options, const Catalog& catalog,
               Publisher& publisher, Spool* spool)
    : io_(io),
      options_(options),
      catalog_(catalog),
      publisher_(publisher),
      spool_(spool),
      signals_(io, SIGTERM, SIGINT),
      shutdown_timer_(io),
      log_flush_timer_(io),
      linger_timer_(io) {
    if (spool_ != nullptr) {
        publisher_.on_confirmed(
            [this](EntryId newest) { spool_->confirmed(newest, publisher_.outbox().entries()); });
        // Called between requests: the spool's unconfirmed records are then
        // exactly the codes the outbox holds.
        publisher_.on_restamped([this](const std::vector<Delivery>& moved) {
            try {
                spool_->moved(publisher_.outbox().entries());
            } catch (const SpoolError& e) {
                // The old records stay: a replay would move them again.
                spdlog::error(
                    "Cannot record {} codes of {} under their new ids in the spool: {}; they "
                    "are still held and sent",
                    moved.size(), options_.channel, e.what());
            }
        });
    }
}

Server::~Server() = default;

void Server::serve() {
    listener_ = std::make_shared<Listener>(io_, options_.socket_path, *this);
    listener_->start();
    if (!options_.pid_file.empty()) {
        try {
            pid_file_.emplace(options_.pid_file);
        } catch (...) {
            listener_->close();
            throw;
        }
    }
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
        if (!ec) {
            shutdown(signal == SIGTERM ? "SIGTERM" : "SIGINT");
        }
    });
    flush_logs_periodically();
    spdlog::info("Serving project channel {} (pid file {})", options_.channel,
                 options_.pid_file.empty() ? "none" : options_.pid_file);
}

Server::Answer Server::handle(const std::vector<Request>& requests, ProducerSession& from) {
    const auto& peer = from.peer();
    Answer answer;
    std::vector<std::string> lines;
    std::vector<std::size_t> spooled_lines;  // OKs that stand only if the spool syncs
    for (const Request& request : requests) {
        if (answer.exit_requested) {
            answer.after_exit += "ERR shutting down\n";
            continue;
        }
        if (request.kind == Request::Kind::Exit) {
            const ProducerAuthority& authority = options_.socket_access.authority;
            if (!authority.may_exit(peer)) {
                // Counted like every refusal: another user must not flood the log.
                if (from.note_rejection()) {
                    spdlog::warn(
                        "Refused EXIT from pid {}: uid {} is neither the daemon's nor root",
                        peer.pid, peer.uid);
                }
                lines.push_back(authority.exit_refusal());
                continue;
            }
            answer.exit_requested = true;
            continue;
        }
        if (request.kind == Request::Kind::Invalid) {
            if (from.note_rejection()) {
                spdlog::warn("Rejected request for {} from pid {}: {}", options_.channel, peer.pid,
                             request.error);
            }
            lines.push_back("ERR " + request.error);
            continue;
        }
        const std::size_t spooled_before = spooled_.size();
        lines.push_back(accept(*request.code, peer));
        if (spooled_.size() > spooled_before) {
            spooled_lines.push_back(lines.size() - 1);
        }
    }
    if (auto failure = commit_spooled()) {
        for (const std::size_t line : spooled_lines) {
            lines[line] = "ERR " + *failure;
        }
    }
    for (const std::string& line : lines) {
        answer.replies += line;
        answer.replies += '\n';
    }
    if (answer.exit_requested) {
        exit_requesters_.push_back(from.weak_from_this());
        shutdown("the EXIT request was sent by pid " + std::to_string(peer.pid));
    }
    return answer;
}

std::string Server::accept(const StatusCode& code, const PeerCredentials& peer) {
    const std::size_t held = publisher_.outbox().size() + spooled_.size();
    if (held >= publisher_.outbox().capacity()) {
        spdlog::error("Rejected {} ({}) for {} from pid {}: outbox full ({} codes held)",
                      code.value, code.name, options_.channel, peer.pid, held);
        return "ERR outbox full: Redis has not taken the last " + std::to_string(held) + " codes";
    }
    const Delivery delivery = publisher_.stamp(code);
    if (spool_ == nullptr) {
        publisher_.send(delivery);
    } else {
        try {
            spool_->append(delivery);
        } catch (const SpoolError& e) {
            spdlog::error("Rejected {} ({}) for {} from pid {}: {}", code.value, code.name,
                          options_.channel, peer.pid, e.what());
            return "ERR " + std::string(e.what());
        }
        spooled_.push_back(delivery);
    }
    spdlog::info("Handling {} ({}) for {} from pid {}", code.value, code.name, options_.channel,
                 peer.pid);
    return "OK";
}

std::optional<std::string> Server::commit_spooled() {
    if (spooled_.empty()) {
        return std::nullopt;
    }
    const std::vector<Delivery> codes = std::exchange(spooled_, {});
    try {
        spool_->sync();
    } catch (const SpoolError& e) {
        spdlog::error("Rejected {} codes for {}: {}", codes.size(), options_.channel, e.what());
        return e.what();
    }
    for (const Delivery& delivery : codes) {
        publisher_.send(delivery);  // room was checked in accept()
    }
    return std::nullopt;
}

void Server::leave(ProducerSession* session) {
    sessions_.erase(session);
    if (finished_ && sessions_.empty()) {
        linger_timer_.cancel();  // the last reply is out: nothing keeps the loop
    }
}

void Server::shutdown(const std::string& reason) {
    if (shutting_down_) {
        if (finished_) {
            finish();  // a late EXIT: answer it
        }
        return;
    }
    shutting_down_ = true;
    spdlog::info("Shutting down the server since {}", reason);
    signals_.cancel();
    if (listener_) {
        listener_->close();
    }
    const std::vector<ProducerSession*> open(sessions_.begin(), sessions_.end());
    for (ProducerSession* session : open) {
        const bool requested_exit =
            std::any_of(exit_requesters_.begin(), exit_requesters_.end(),
                        [session](const auto& weak) { return weak.lock().get() == session; });
        if (!requested_exit) {
            session->stop();
        }
    }
    if (!publisher_.outbox().empty()) {
        spdlog::info("Waiting up to {} ms for Redis to take {} codes",
                     options_.shutdown_timeout.count(), publisher_.outbox().size());
    }
    shutdown_timer_.expires_after(options_.shutdown_timeout);
    shutdown_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            finish();
        }
    });
    publisher_.when_drained([this] { boost::asio::post(io_, [this] { finish(); }); });
}

void Server::finish() {
    if (!finished_) {
        finished_ = true;
        shutdown_timer_.cancel();
        log_flush_timer_.cancel();
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
    }
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
        if (ec) {
            return;
        }
        spdlog::warn("Closing {} connections that did not take their last replies",
                     sessions_.size());
        const std::vector<ProducerSession*> open(sessions_.begin(), sessions_.end());
        for (ProducerSession* session : open) {
            session->close();
        }
    });
    if (sessions_.empty()) {
        linger_timer_.cancel();
    }
    flush_logs();
}

void Server::flush_logs_periodically() {
    // The log file is buffered; flush it a few times a second, not per line.
    log_flush_timer_.expires_after(std::chrono::milliseconds(250));
    log_flush_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            flush_logs();
            flush_logs_periodically();
        }
    });
}

}  // namespace bscd
