#include "support/redis_connection.hpp"

#include <poll.h>
#include <stdexcept>
#include <sys/time.h>

#include <hiredis/hiredis.h>

namespace bscd::test {
namespace {

timeval to_timeval(std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    return tv;
}

}  // namespace

void RedisContextFree::operator()(redisContext* context) const {
    redisFree(context);
}

Reply to_reply(const void* redis_reply) {
    const auto* r = static_cast<const redisReply*>(redis_reply);
    Reply out;
    switch (r->type) {
        case REDIS_REPLY_STRING:
            out.type = Reply::String;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = Reply::Status;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = Reply::Error;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type = Reply::Integer;
            out.integer = r->integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = Reply::Array;
            out.elements.reserve(r->elements);
            for (size_t i = 0; i < r->elements; ++i) {
                out.elements.push_back(to_reply(r->element[i]));
            }
            break;
        case REDIS_REPLY_NIL:
        default:
            out.type = Reply::Nil;
            break;
    }
    return out;
}

RedisContextPtr connect_redis(const std::string& host, int port, std::chrono::milliseconds timeout,
                              const std::string& password) {
    const std::string address = host + ":" + std::to_string(port);
    RedisContextPtr context(redisConnectWithTimeout(host.c_str(), port, to_timeval(timeout)));
    if (!context) {
        throw std::runtime_error("cannot connect to Redis at " + address + ": out of memory");
    }
    if (context->err != 0) {
        throw std::runtime_error("cannot connect to Redis at " + address + ": " + context->errstr);
    }
    // redisConnectWithTimeout bounds only the connection; reads and writes
    // need their own (SO_RCVTIMEO / SO_SNDTIMEO).
    if (redisSetTimeout(context.get(), to_timeval(timeout)) != REDIS_OK) {
        throw std::runtime_error("cannot set a timeout on the connection to " + address + ": " +
                                 context->errstr);
    }
    if (!password.empty()) {
        const Reply reply = redis_command(context.get(), {"AUTH", password});
        if (reply.type == Reply::Error) {
            throw std::runtime_error("AUTH at " + address + " failed: " + reply.str);
        }
    }
    return context;
}

Reply redis_command(redisContext* context, const std::vector<std::string>& args) {
    if (args.empty()) {
        throw std::invalid_argument("redis_command: no arguments");
    }
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    auto* raw = static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (raw == nullptr) {
        throw std::runtime_error("Redis command " + args[0] +
                                 " failed: " + (context->err != 0 ? context->errstr : "no reply"));
    }
    Reply reply = to_reply(raw);
    freeReplyObject(raw);
    return reply;
}

bool idle_and_open(redisContext* context) {
    pollfd pfd{context->fd, POLLIN, 0};
    return context->err == 0 && ::poll(&pfd, 1, 0) == 0;
}

}  // namespace bscd::test
