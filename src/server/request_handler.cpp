#include "server/request_handler.hpp"

#include <utility>

#include <spdlog/spdlog.h>

#include "server/producer_session.hpp"

namespace bscd {

RequestHandler::Answer RequestHandler::handle(const std::vector<Request>& requests,
                                              ProducerSession& from) {
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
    return answer;
}

std::string RequestHandler::accept(const StatusCode& code, const PeerCredentials& peer) {
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

std::optional<std::string> RequestHandler::commit_spooled() {
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

}  // namespace bscd
