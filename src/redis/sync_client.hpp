#pragma once
// A blocking Redis connection for short conversations: start-up checks in
// bscd, `bsc check-redis`, `bsc watch`. The event-loop code uses RedisLink
// instead. Every topology: the master a sentinel names (confirmed with
// ROLE), or a cluster node, following MOVED and ASK to the key's node.

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/entry_id.hpp"
#include "redis/redis_options.hpp"
#include "redis/stream_reply.hpp"

struct redisContext;

namespace bscd {

class RedisError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Redis refused what was asked (a wrong password, an ACL without the
// command, key or channel): asking again will not help, unlike a lost link.
class RedisRefused : public RedisError {
public:
    using RedisError::RedisError;
};

// An error reply Redis gives for authentication and ACL permissions
// (WRONGPASS, NOAUTH, NOPERM): a refusal, not a failure of the moment.
bool is_refusal(std::string_view error_text);

// Frees a hiredis reply.
struct ReplyFree {
    void operator()(redisReply* reply) const;
};

class SyncClient {
public:
    using Reply = std::unique_ptr<redisReply, ReplyFree>;

    // Finds the node (asking the sentinels in turn, or the first cluster
    // seed that answers), connects, authenticates and selects the database.
    // Throws RedisError naming the address and the cause.
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

    // Up to `count` entries of a stream after `after` (exclusive), oldest
    // first (XRANGE); empty when there are none or no stream.
    std::vector<StreamEntry> read_stream(const std::string& key, const EntryId& after,
                                         std::size_t count);

    // As read_stream, but waits up to `block` for entries to arrive
    // (XREAD BLOCK); empty when none came in that time.
    std::vector<StreamEntry> wait_stream(const std::string& key, const EntryId& after,
                                         std::size_t count, std::chrono::milliseconds block);

    // Runs `args` (a command whose first key decides the node in a cluster)
    // and returns the reply; an error reply throws RedisError (RedisRefused
    // for a refusal), naming `what`.
    Reply command(const std::vector<std::string>& args, std::string_view what);

    // SUBSCRIBE: from then on the connection only receives messages.
    void subscribe(const std::string& channel);

    // The payload of the next message on the subscribed channel, or nullopt
    // when none came within `timeout`. Throws RedisError when the link is lost.
    std::optional<std::string> next_message(std::chrono::milliseconds timeout);

private:
    struct ContextFree {
        void operator()(redisContext* context) const;
    };
    void connect_node(const RedisOptions& node);
    void connect_master();  // Sentinel
    // Runs a command on the node that serves it: MOVED and ASK are
    // followed, and READONLY, MASTERDOWN or LOADING make a Sentinel client
    // find the master again. `read_timeout` bounds the wait for the reply.
    Reply call(const std::vector<std::string>& args, std::string_view what,
               std::chrono::milliseconds read_timeout);
    Reply call(const std::vector<std::string>& args, std::string_view what) {
        return call(args, what, timeout_);
    }

    RedisOptions options_;
    std::unique_ptr<redisContext, ContextFree> context_;
    std::string host_;  // the node's, for MOVED replies that leave it out
    std::string address_;
    std::chrono::milliseconds timeout_;
};

}  // namespace bscd
