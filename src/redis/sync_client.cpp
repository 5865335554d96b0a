#include "redis/sync_client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <string_view>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "core/redis_redirect.hpp"

namespace bscd {

namespace {

using OwnedReply = std::unique_ptr<redisReply, ReplyFree>;

timeval to_timeval(std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) {
        timeout = std::chrono::milliseconds(1);
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    return tv;
}

// Runs one command; throws RedisError when no reply came (connection lost,
// timeout). Error replies are returned for the caller to judge.
OwnedReply run_command(redisContext* context, const std::string& address,
                       const std::vector<std::string>& args, std::string_view what) {
    std::vector<const char*> argv;
    std::vector<std::size_t> argvlen;
    argv.reserve(args.size());
    argvlen.reserve(args.size());
    for (const std::string& arg : args) {
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
    return OwnedReply(raw);
}

// [id, [field, value, ...]] as XRANGE and XREAD return each entry.
std::vector<StreamEntry> stream_entries(const redisReply& entries, const std::string& address) {
    auto parsed = parse_stream_entries(entries);
    if (!parsed) {
        throw RedisError("Redis at " + address + " sent a malformed stream entry");
    }
    return std::move(*parsed);
}

void throw_if_error(const redisReply& reply, const std::string& address, std::string_view what) {
    if (reply.type != REDIS_REPLY_ERROR) {
        return;
    }
    const std::string_view text = reply_text(reply);
    const std::string message = "Redis at " + address + " answered " + std::string(what) +
                                " with an error: " + std::string(text);
    if (is_refusal(text)) {
        throw RedisRefused(message);
    }
    throw RedisError(message);
}

// A redirection followed at most this often for one command: more means
// the cluster is being resharded faster than a client can follow.
constexpr int max_redirects = 5;

}  // namespace

bool is_refusal(std::string_view error_text) {
    return error_text.starts_with("NOPERM") || error_text.starts_with("WRONGPASS") ||
           error_text.starts_with("NOAUTH");
}

void SyncClient::ContextFree::operator()(redisContext* context) const {
    redisFree(context);
}

void ReplyFree::operator()(redisReply* reply) const {
    freeReplyObject(reply);
}

SyncClient::SyncClient(const RedisOptions& options, std::chrono::milliseconds timeout)
    : options_(options), address_(options.address()), timeout_(timeout) {
    switch (options.mode()) {
        case RedisMode::Standalone:
            connect_node(options);
            return;
        case RedisMode::Sentinel:
            connect_master();
            return;
        case RedisMode::Cluster: {
            // Any node will do: each command is followed to its key's node.
            std::string failures;
            for (const HostPort& seed : options.cluster_nodes) {
                try {
                    connect_node(options.at(seed));
                    return;
                } catch (const RedisRefused&) {
                    throw;
                } catch (const RedisError& e) {
                    failures += std::string(failures.empty() ? "" : "; ") + e.what();
                }
            }
            throw RedisError("Could not connect to any Redis cluster seed: " + failures);
        }
    }
}

void SyncClient::connect_master() {
    std::string failures;
    for (const HostPort& sentinel : options_.sentinels) {
        std::optional<RedisOptions> master;
        try {
            SyncClient asked(options_.sentinel_at(sentinel), timeout_);
            const Reply reply = asked.call(
                {"SENTINEL", "get-master-addr-by-name", options_.master_name}, "SENTINEL");
            if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
                // Brackets, so that an IPv6 host parses as one too.
                if (auto named =
                        HostPort::parse("[" + std::string(reply_text(*reply->element[0])) +
                                        "]:" + std::string(reply_text(*reply->element[1])))) {
                    master = options_.at(*named);
                    master->must_be_master = true;
                }
            }
            if (!master) {
                failures += (failures.empty() ? "" : "; ") + sentinel.str() + " does not know " +
                            options_.master_name;
                continue;
            }
        } catch (const RedisError& e) {
            failures += std::string(failures.empty() ? "" : "; ") + e.what();
            continue;
        }
        try {
            connect_node(*master);
            return;
        } catch (const RedisRefused&) {
            throw;
        } catch (const RedisError& e) {  // e.g. named before a failover ended: not the master
            failures += std::string(failures.empty() ? "" : "; ") + e.what();
        }
    }
    throw RedisError("Could not find the Redis master " + options_.master_name +
                     " through the sentinels: " + failures);
}

void SyncClient::connect_node(const RedisOptions& node) {
    context_.reset();
    host_ = node.host;
    address_ = node.address();
    const timeval tv = to_timeval(timeout_);
    redisContext* context = node.unix_socket.empty()
                                ? redisConnectWithTimeout(node.host.c_str(), node.port, tv)
                                : redisConnectUnixWithTimeout(node.unix_socket.c_str(), tv);
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

    if (const auto auth = node.auth_command(); !auth.empty()) {
        // The password itself never goes into a message.
        const OwnedReply reply = run_command(context, address_, auth, "AUTH");
        if (reply->type == REDIS_REPLY_ERROR) {
            throw RedisRefused("Redis at " + address_ + " refused the " +
                               (node.user.empty() ? "password" : "user and password") + ": " +
                               std::string(reply_text(*reply)));
        }
    }
    if (node.db != 0) {
        const std::string db = std::to_string(node.db);
        const OwnedReply reply = run_command(context, address_, {"SELECT", db}, "SELECT");
        throw_if_error(*reply, address_, "SELECT " + db);
    }
    if (node.must_be_master) {
        const OwnedReply reply = run_command(context, address_, {"ROLE"}, "ROLE");
        throw_if_error(*reply, address_, "ROLE");
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0 ||
            reply_text(*reply->element[0]) != "master") {
            throw RedisError("Redis at " + address_ + " is not the master " + options_.master_name +
                             " (a failover is under way)");
        }
    }
}

SyncClient::Reply SyncClient::call(const std::vector<std::string>& args, std::string_view what,
                                   std::chrono::milliseconds read_timeout) {
    bool asking = false;
    bool master_sought = false;
    for (int redirects = 0;; ++redirects) {
        redisSetTimeout(context_.get(), to_timeval(read_timeout));
        if (asking) {
            (void)run_command(context_.get(), address_, {"ASKING"}, "ASKING");
        }
        OwnedReply reply = run_command(context_.get(), address_, args, what);
        redisSetTimeout(context_.get(), to_timeval(timeout_));
        if (reply->type != REDIS_REPLY_ERROR || redirects == max_redirects) {
            return reply;
        }
        const std::string_view text = reply_text(*reply);
        if (auto redirect = parse_redirect(text, host_)) {
            connect_node(options_.at(redirect->node));
            asking = redirect->kind == Redirect::Kind::Ask;
            continue;
        }
        if (options_.mode() == RedisMode::Sentinel && !master_sought &&
            is_retry_elsewhere_error(text)) {
            connect_master();  // READONLY, MASTERDOWN, LOADING: the master moved
            master_sought = true;
            continue;
        }
        return reply;
    }
}

SyncClient::~SyncClient() = default;

void SyncClient::ping() {
    const Reply reply = call({"PING"}, "PING");
    const std::string_view text = reply_text(*reply);
    if (reply->type == REDIS_REPLY_STATUS && text == "PONG") {
        return;
    }
    throw_if_error(*reply, address_, "PING");
    throw RedisError("Redis at " + address_ + " answered PING with something other than PONG");
}

std::optional<std::string> SyncClient::last_stream_id(const std::string& key) {
    const Reply reply = call({"XINFO", "STREAM", key}, "XINFO STREAM");
    if (reply->type == REDIS_REPLY_ERROR) {
        const std::string_view text = reply_text(*reply);
        if (text.starts_with("ERR no such key")) {
            return std::nullopt;
        }
        throw_if_error(*reply, address_, "XINFO STREAM " + key);
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

SyncClient::Reply SyncClient::command(const std::vector<std::string>& args, std::string_view what) {
    Reply reply = call(args, what);
    throw_if_error(*reply, address_, what);
    return reply;
}

std::vector<StreamEntry> SyncClient::read_stream(const std::string& key, const EntryId& after,
                                                 std::size_t count) {
    const Reply reply =
        call({"XRANGE", key, "(" + after.str(), "+", "COUNT", std::to_string(count)}, "XRANGE");
    throw_if_error(*reply, address_, "XRANGE");
    return stream_entries(*reply, address_);
}

std::vector<StreamEntry> SyncClient::wait_stream(const std::string& key, const EntryId& after,
                                                 std::size_t count,
                                                 std::chrono::milliseconds block) {
    const std::string block_ms = std::to_string(std::max<long long>(block.count(), 1));
    // The read must outlast the wait Redis was asked for.
    const Reply reply = call(
        {"XREAD", "COUNT", std::to_string(count), "BLOCK", block_ms, "STREAMS", key, after.str()},
        "XREAD", block + timeout_);
    throw_if_error(*reply, address_, "XREAD");
    // nil when nothing came; else [[key, entries]].
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        return {};
    }
    const redisReply* stream = reply->element[0];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) {
        throw RedisError("Redis at " + address_ + " sent a malformed XREAD reply");
    }
    return stream_entries(*stream->element[1], address_);
}

void SyncClient::subscribe(const std::string& channel) {
    const Reply reply = call({"SUBSCRIBE", channel}, "SUBSCRIBE");
    throw_if_error(*reply, address_, "SUBSCRIBE");
}

std::optional<std::string> SyncClient::next_message(std::chrono::milliseconds timeout) {
    redisContext* context = context_.get();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        // A reply already read into hiredis' buffer comes first. hiredis
        // 0.14 ruins a connection whose read times out, so it reads only
        // after poll() says there is something to read.
        void* raw = nullptr;
        if (redisGetReplyFromReader(context, &raw) != REDIS_OK) {
            throw RedisError("reading from Redis at " + address_ + " failed: " + context->errstr);
        }
        if (raw != nullptr) {
            Reply reply(static_cast<redisReply*>(raw));
            // ["message", channel, payload]; anything else (confirmations) is skipped.
            if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
                reply_text(*reply->element[0]) == "message") {
                return std::string(reply_text(*reply->element[2]));
            }
            continue;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        pollfd ready{context->fd, POLLIN, 0};
        const int n = ::poll(&ready, 1, static_cast<int>(left.count()));
        if (n < 0 && errno != EINTR) {
            throw RedisError("waiting for Redis at " + address_ +
                             " failed: " + std::strerror(errno));
        }
        if (n > 0 && redisBufferRead(context) != REDIS_OK) {
            throw RedisError("connection to Redis at " + address_ + " lost: " + context->errstr);
        }
    }
}

}  // namespace bscd
