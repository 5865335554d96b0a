#include "redis/sync_client.hpp"

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <string_view>
#include <sys/time.h>

#include <hiredis/hiredis.h>

namespace bscd {

namespace {

struct ReplyFree {
    void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

timeval to_timeval(std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) {
        timeout = std::chrono::milliseconds(1);
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    return tv;
}

std::string_view reply_text(const redisReply& reply) {
    if (reply.str == nullptr) {
        return {};
    }
    return {reply.str, static_cast<std::size_t>(reply.len)};
}

// Runs one command; throws RedisError when no reply came (connection lost,
// timeout). Error replies are returned for the caller to judge.
Reply command(redisContext* context, const std::string& address,
              std::initializer_list<std::string_view> args, std::string_view what) {
    std::vector<const char*> argv;
    std::vector<std::size_t> argvlen;
    argv.reserve(args.size());
    argvlen.reserve(args.size());
    for (std::string_view arg : args) {
        argv.push_back(arg.data());
        argvlen.push_back(arg.size());
    }
    auto* raw = static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), argvlen.data()));
    if (raw == nullptr) {
        std::string cause = context->errstr;
        // A blocking read that ran into the timeout reports EAGAIN's text.
        if (context->err == REDIS_ERR_IO &&
            (cause == std::strerror(EAGAIN) || cause == std::strerror(EWOULDBLOCK))) {
            cause = "no reply";
            if (context->timeout != nullptr) {
                const long long ms = static_cast<long long>(context->timeout->tv_sec) * 1000 +
                                     context->timeout->tv_usec / 1000;
                cause += " within " + std::to_string(ms) + " ms";
            }
        } else if (context->err == REDIS_ERR_EOF) {
            cause = "connection closed by Redis";
        }
        throw RedisError(std::string(what) + " to Redis at " + address + " failed: " + cause);
    }
    return Reply(raw);
}

}  // namespace

void SyncClient::ContextFree::operator()(redisContext* context) const {
    redisFree(context);
}

SyncClient::SyncClient(const RedisOptions& options, std::chrono::milliseconds timeout)
    : address_(options.address()) {
    const timeval tv = to_timeval(timeout);
    redisContext* context = options.unix_socket.empty()
                                ? redisConnectWithTimeout(options.host.c_str(), options.port, tv)
                                : redisConnectUnixWithTimeout(options.unix_socket.c_str(), tv);
    if (context == nullptr) {
        throw RedisError("Could not connect to Redis at " + address_ + ": out of memory");
    }
    context_.reset(context);
    if (context->err != 0) {
        throw RedisError("Could not connect to Redis at " + address_ + ": " + context->errstr);
    }
    // Without this a command would wait forever for a server that accepted
    // the connection and then hangs.
    if (redisSetTimeout(context, tv) != REDIS_OK) {
        throw RedisError("Could not set a timeout on the connection to Redis at " + address_ +
                         ": " + context->errstr);
    }

    if (!options.password.empty()) {
        // The password itself never goes into a message.
        Reply reply = command(context, address_, {"AUTH", options.password}, "AUTH");
        if (reply->type == REDIS_REPLY_ERROR) {
            throw RedisError("Redis at " + address_ +
                             " refused the password: " + std::string(reply_text(*reply)));
        }
    }
    if (options.db != 0) {
        const std::string db = std::to_string(options.db);
        Reply reply = command(context, address_, {"SELECT", db}, "SELECT");
        if (reply->type == REDIS_REPLY_ERROR) {
            throw RedisError("Redis at " + address_ + " refused to select database " + db + ": " +
                             std::string(reply_text(*reply)));
        }
    }
}

SyncClient::~SyncClient() = default;

void SyncClient::ping() {
    Reply reply = command(context_.get(), address_, {"PING"}, "PING");
    const std::string_view text = reply_text(*reply);
    if (reply->type == REDIS_REPLY_STATUS && text == "PONG") {
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        throw RedisError("Redis at " + address_ +
                         " answered PING with an error: " + std::string(text));
    }
    throw RedisError("Redis at " + address_ + " answered PING with something other than PONG");
}

std::optional<std::string> SyncClient::last_stream_id(const std::string& key) {
    Reply reply = command(context_.get(), address_, {"XINFO", "STREAM", key}, "XINFO STREAM");
    if (reply->type == REDIS_REPLY_ERROR) {
        const std::string_view text = reply_text(*reply);
        if (text.starts_with("ERR no such key")) {
            return std::nullopt;
        }
        throw RedisError("Redis at " + address_ + " answered XINFO STREAM " + key +
                         " with an error: " + std::string(text));
    }
    // RESP2: a flat array of field names and values.
    if (reply->type == REDIS_REPLY_ARRAY) {
        for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
            const redisReply* field = reply->element[i];
            const redisReply* value = reply->element[i + 1];
            if (field->type == REDIS_REPLY_STRING && reply_text(*field) == "last-generated-id" &&
                (value->type == REDIS_REPLY_STRING || value->type == REDIS_REPLY_STATUS)) {
                return std::string(reply_text(*value));
            }
        }
    }
    throw RedisError("Redis at " + address_ + " answered XINFO STREAM " + key +
                     " without a last-generated-id");
}

}  // namespace bscd
