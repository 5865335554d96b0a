#include "support/subscriber.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <stdexcept>

#include <hiredis/hiredis.h>

#include "support/redis_server.hpp"

namespace bscd::test {

Subscriber::Subscriber(const RedisServer& server, const std::string& channel,
                       std::chrono::milliseconds timeout)
    : Subscriber(server.host(), server.port(), channel, timeout, server.password()) {}

Subscriber::Subscriber(const std::string& host, int port, const std::string& channel,
                       std::chrono::milliseconds timeout, const std::string& password)
    : channel_(channel), context_(connect_redis(host, port, timeout, password)) {
    // Blocking: returns the first reply, the confirmation. Messages that came
    // in the same read stay in hiredis's reader for next().
    const Reply confirmation = redis_command(context_.get(), {"SUBSCRIBE", channel});
    if (confirmation.type != Reply::Array || confirmation.elements.size() != 3 ||
        confirmation.elements[0].str != "subscribe" || confirmation.elements[1].str != channel) {
        throw std::runtime_error(
            "SUBSCRIBE " + channel + " was not confirmed" +
            (confirmation.type == Reply::Error ? ": " + confirmation.str : std::string()));
    }
    // From here on reads happen only after poll() saw data, so the socket's
    // read timeout (set by connect_redis) can never fire and poison the
    // context: hiredis 0.14 turns a timed-out read into a fatal error.
}

std::optional<std::string> Subscriber::next_after_own_sentinel(RedisServer& server) {
    server.command({"PUBLISH", channel_, own_sentinel});
    return next(std::chrono::seconds(10));
}

std::optional<std::string> Subscriber::buffered() {
    for (;;) {
        void* raw = nullptr;
        if (redisGetReplyFromReader(context_.get(), &raw) != REDIS_OK) {
            throw std::runtime_error("subscriber on " + channel_ + ": " + context_->errstr);
        }
        if (raw == nullptr) {
            return std::nullopt;
        }
        const Reply reply = to_reply(raw);
        freeReplyObject(raw);
        if (reply.type == Reply::Array && reply.elements.size() == 3 &&
            reply.elements[0].str == "message") {
            return reply.elements[2].str;
        }
        // Anything else (a confirmation of a later SUBSCRIBE, ...) is skipped.
    }
}

std::optional<std::string> Subscriber::next(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto message = buffered()) {
            return message;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        pollfd pfd{context_->fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()) + 1);
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::runtime_error(std::string("subscriber poll: ") + std::strerror(errno));
        }
        if (ready == 0) {
            continue;  // the deadline check above ends the loop
        }
        // Data (or EOF) is there: this single read() does not block.
        if (redisBufferRead(context_.get()) != REDIS_OK) {
            throw std::runtime_error("subscriber on " + channel_ +
                                     " lost its connection: " + context_->errstr);
        }
    }
}

std::vector<std::string> Subscriber::collect(std::size_t count, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::string> messages;
    while (messages.size() < count) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        auto message = next(left);
        if (!message) {
            break;
        }
        messages.push_back(std::move(*message));
    }
    return messages;
}

}  // namespace bscd::test
