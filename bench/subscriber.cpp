#include "subscriber.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <string_view>

namespace bench {

namespace {

timeval to_timeval(std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    return tv;
}

std::string_view element(const redisReply* reply, std::size_t i) {
    const redisReply* e = reply->element[i];
    return e->type == REDIS_REPLY_STRING ? std::string_view(e->str, e->len) : std::string_view();
}

}  // namespace

Subscriber::Subscriber(const RedisTarget& redis, const std::string& channel,
                       std::chrono::milliseconds timeout)
    : channel_(channel) {
    context_ = redisConnectWithTimeout(redis.host.c_str(), redis.port, to_timeval(timeout));
    if (context_ == nullptr || context_->err != 0) {
        const std::string reason = context_ != nullptr ? context_->errstr : "out of memory";
        redisFree(context_);
        context_ = nullptr;
        throw std::runtime_error("subscriber: cannot connect to Redis at " + redis.host + ":" +
                                 std::to_string(redis.port) + ": " + reason);
    }
    redisSetTimeout(context_, to_timeval(timeout));
    auto* reply = static_cast<redisReply*>(redisCommand(context_, "SUBSCRIBE %s", channel.c_str()));
    const bool confirmed = reply != nullptr && reply->type == REDIS_REPLY_ARRAY &&
                           reply->elements == 3 && element(reply, 0) == "subscribe";
    if (reply != nullptr) {
        freeReplyObject(reply);
    }
    if (!confirmed) {
        const std::string reason = context_->err != 0 ? context_->errstr : "unexpected reply";
        redisFree(context_);
        context_ = nullptr;
        throw std::runtime_error("subscriber: SUBSCRIBE " + channel + " failed: " + reason);
    }
}

Subscriber::~Subscriber() {
    redisFree(context_);
}

std::size_t Subscriber::take_buffered() {
    std::size_t taken = 0;
    for (;;) {
        void* raw = nullptr;
        if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) {
            throw std::runtime_error("subscriber on " + channel_ + ": " + context_->errstr);
        }
        if (raw == nullptr) {
            return taken;
        }
        const auto* reply = static_cast<const redisReply*>(raw);
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
            element(reply, 0) == "message") {
            ++taken;
            if (element(reply, 2) != expected_) {
                ++unexpected_;
            }
        }
        freeReplyObject(raw);
    }
}

std::size_t Subscriber::receive(std::chrono::milliseconds timeout) {
    if (const std::size_t taken = take_buffered(); taken > 0) {
        return taken;
    }
    pollfd pfd{context_->fd, POLLIN, 0};
    int ready = 0;
    do {
        ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    } while (ready < 0 && errno == EINTR);
    if (ready < 0) {
        throw std::runtime_error(std::string("subscriber: poll: ") + std::strerror(errno));
    }
    if (ready == 0) {
        return 0;
    }
    if (redisBufferRead(context_) != REDIS_OK) {  // one read(): data or EOF is there
        throw std::runtime_error("subscriber on " + channel_ +
                                 " lost its connection: " + context_->errstr);
    }
    return take_buffered();
}

}  // namespace bench
