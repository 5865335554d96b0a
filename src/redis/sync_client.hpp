#pragma once
// A blocking Redis connection for short conversations: start-up checks in
// bscd, `bsc check-redis`. The event-loop code uses AsyncConnection instead.

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "redis/redis_options.hpp"

struct redisContext;

namespace bscd {

class RedisError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SyncClient {
public:
    // Connects, authenticates and selects the database. Throws RedisError
    // naming the address and the cause.
    explicit SyncClient(const RedisOptions& options,
                        std::chrono::milliseconds timeout = std::chrono::seconds(2));
    ~SyncClient();
    SyncClient(const SyncClient&) = delete;
    SyncClient& operator=(const SyncClient&) = delete;

    // PING; throws RedisError unless the answer is PONG.
    void ping();

    // The last id Redis generated for a stream (XINFO STREAM), or nullopt
    // when the stream does not exist. Throws RedisError on other failures.
    std::optional<std::string> last_stream_id(const std::string& key);

private:
    struct ContextFree {
        void operator()(redisContext* context) const;
    };
    std::unique_ptr<redisContext, ContextFree> context_;
    std::string address_;
};

}  // namespace bscd
