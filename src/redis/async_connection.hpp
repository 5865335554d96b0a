#pragma once
// One asynchronous link to Redis on the Asio loop: connects, authenticates,
// selects the database, sends commands (pipelined) and reports a lost link
// exactly once. Reconnecting is the owner's decision (see Publisher).

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "redis/redis_options.hpp"

struct redisAsyncContext;
struct redisReply;

namespace bscd {

class AsyncConnection {
public:
    // Called with the reply, or with nullptr when the link went away before
    // the reply came (the lost handler has been or will be told).
    using ReplyHandler = std::function<void(const redisReply*)>;
    using ReadyHandler = std::function<void()>;
    using LostHandler = std::function<void(const std::string& reason)>;

    AsyncConnection(boost::asio::io_context& io, RedisOptions options);
    ~AsyncConnection();
    AsyncConnection(const AsyncConnection&) = delete;
    AsyncConnection& operator=(const AsyncConnection&) = delete;

    // Starts connecting. on_ready runs once Redis answered the handshake
    // (AUTH, SELECT, PING); on_lost runs once, from the event loop, if that
    // fails or takes longer than `timeout`, or if the link later drops.
    void connect(std::chrono::milliseconds timeout, ReadyHandler on_ready, LostHandler on_lost);
    // The same, to `node` (one data node: what NodeLocator found); the
    // handshake also checks its ROLE when node.must_be_master.
    void connect(RedisOptions node, std::chrono::milliseconds timeout, ReadyHandler on_ready,
                 LostHandler on_lost);

    [[nodiscard]] bool ready() const { return state_ == State::Ready; }
    [[nodiscard]] const RedisOptions& options() const { return options_; }

    // Queues a command; false when there is no link to send it on.
    bool command(const std::vector<std::string>& args, ReplyHandler on_reply);

    // Pub/sub. A link that has sent SUBSCRIBE must carry nothing but SUBSCRIBE
    // and UNSUBSCRIBE (hiredis 0.14 hands pending replies' callbacks whatever
    // comes next, messages included). Each subscribe, unsubscribe and message
    // reply goes to the push handler. False when there is no link.
    using PushHandler = std::function<void(const redisReply& reply)>;
    void set_push_handler(PushHandler on_push) { on_push_ = std::move(on_push); }
    bool subscription_command(const std::vector<std::string>& args);

    // Drops the link as lost: on_lost(reason) follows from the event loop.
    void fail(const std::string& reason);

    // Drops the link quietly (no on_lost): shutting down.
    void close();

private:
    enum class State { Idle, Connecting, Ready };

    static void on_connect(const redisAsyncContext* context, int status);
    static void on_disconnect(const redisAsyncContext* context, int status);
    void handshake();
    void lost(const std::string& reason);  // the context is gone or going
    void release();                        // frees the context, silences its callbacks
    bool send(const std::vector<std::string>& args,
              void (*callback)(redisAsyncContext*, void*, void*), void* data);
    static void push_trampoline(redisAsyncContext* context, void* reply, void* data);

    boost::asio::io_context& io_;
    RedisOptions options_;
    redisAsyncContext* context_ = nullptr;
    State state_ = State::Idle;
    boost::asio::steady_timer connect_timer_;
    ReadyHandler on_ready_;
    LostHandler on_lost_;
    PushHandler on_push_;
    // Posted callbacks check this, so none runs after the object is gone.
    std::shared_ptr<AsyncConnection*> self_ = std::make_shared<AsyncConnection*>(this);
};

}  // namespace bscd
