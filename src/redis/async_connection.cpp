#include "redis/async_connection.hpp"

#include <string>
#include <utility>

#include <boost/asio/post.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "redis/asio_adapter.hpp"

namespace bscd {
namespace {

void reply_trampoline(redisAsyncContext* /*context*/, void* reply, void* data) {
    std::unique_ptr<AsyncConnection::ReplyHandler> handler(
        static_cast<AsyncConnection::ReplyHandler*>(data));
    (*handler)(static_cast<const redisReply*>(reply));
}

std::string error_text(const redisReply* reply) {
    return std::string(reply->str, reply->len);
}

// Empty when ROLE says "master"; else what it says instead.
std::string master_role_mismatch(const redisReply& reply) {
    if (reply.type == REDIS_REPLY_ERROR) {
        return "ROLE failed: " + error_text(&reply);
    }
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements == 0 ||
        reply.element[0]->type != REDIS_REPLY_STRING) {
        return "unexpected ROLE reply";
    }
    std::string role = error_text(reply.element[0]);
    return role == "master" ? std::string() : "role: " + role;
}

}  // namespace

AsyncConnection::AsyncConnection(boost::asio::io_context& io, RedisOptions options)
    : io_(io), options_(std::move(options)), connect_timer_(io) {}

AsyncConnection::~AsyncConnection() {
    close();
}

void AsyncConnection::connect(RedisOptions node, std::chrono::milliseconds timeout,
                              ReadyHandler on_ready, LostHandler on_lost) {
    close();
    options_ = std::move(node);
    connect(timeout, std::move(on_ready), std::move(on_lost));
}

void AsyncConnection::connect(std::chrono::milliseconds timeout, ReadyHandler on_ready,
                              LostHandler on_lost) {
    close();
    on_ready_ = std::move(on_ready);
    on_lost_ = std::move(on_lost);
    redisAsyncContext* context = options_.unix_socket.empty()
                                     ? redisAsyncConnect(options_.host.c_str(), options_.port)
                                     : redisAsyncConnectUnix(options_.unix_socket.c_str());
    if (context == nullptr) {
        lost("out of memory");
        return;
    }
    if (context->err != 0) {  // refused or unresolvable right away
        std::string reason = context->errstr;
        redisAsyncFree(context);
        lost(reason);
        return;
    }
    context_ = context;
    context_->data = this;
    if (options_.unix_socket.empty()) {
        // A peer gone without a reset (host lost, NAT forgot the flow) would
        // leave an idle link, such as a subscription, waiting for ever:
        // TCP keepalive finds it within about half a minute.
        (void)redisEnableKeepAlive(&context_->c);
    }
    attach_to_asio(context_, io_);
    redisAsyncSetConnectCallback(context_, &AsyncConnection::on_connect);
    redisAsyncSetDisconnectCallback(context_, &AsyncConnection::on_disconnect);
    state_ = State::Connecting;
    connect_timer_.expires_after(timeout);
    connect_timer_.async_wait([weak = std::weak_ptr(self_)](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!ec && self && (*self)->state_ == State::Connecting) {
            (*self)->fail("timed out connecting");
        }
    });
    handshake();  // hiredis buffers these until the socket is connected
}

void AsyncConnection::handshake() {
    auto check = [this](const char* step) {
        return [this, step](const redisReply* reply) {
            if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
                fail(std::string(step) + " failed: " + error_text(reply));
            }
        };
    };
    // The reply to AUTH is Redis' own text (WRONGPASS ...): it never
    // repeats the password.
    if (auto auth = options_.auth_command(); !auth.empty()) {
        command(auth, check("AUTH"));
    }
    if (options_.db != 0) {
        command({"SELECT", std::to_string(options_.db)}, check("SELECT"));
    }
    if (options_.must_be_master) {
        command({"ROLE"}, [this](const redisReply* reply) {
            if (reply == nullptr || state_ != State::Connecting) {
                return;
            }
            if (const std::string role = master_role_mismatch(*reply); !role.empty()) {
                fail(options_.address() + " is not the master (" + role + ")");
            }
        });
    }
    command({"PING"}, [this](const redisReply* reply) {
        if (reply == nullptr || state_ != State::Connecting) {
            return;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            fail("PING failed: " + error_text(reply));
            return;
        }
        state_ = State::Ready;
        connect_timer_.cancel();
        if (on_ready_) {
            on_ready_();
        }
    });
}

bool AsyncConnection::command(const std::vector<std::string>& args, ReplyHandler on_reply) {
    auto handler = std::make_unique<ReplyHandler>(std::move(on_reply));
    if (!send(args, reply_trampoline, handler.get())) {
        return false;
    }
    (void)handler.release();  // owned by hiredis until the reply (or nullptr) arrives
    return true;
}

bool AsyncConnection::subscription_command(const std::vector<std::string>& args) {
    // hiredis keeps the callback per channel and calls it for every message:
    // it gets no per-call data to own, and finds this object through the context.
    return send(args, push_trampoline, nullptr);
}

void AsyncConnection::push_trampoline(redisAsyncContext* context, void* reply, void* /*data*/) {
    auto* self = static_cast<AsyncConnection*>(context->data);  // null once released
    if (self != nullptr && reply != nullptr && self->on_push_) {
        self->on_push_(*static_cast<const redisReply*>(reply));
    }
}

bool AsyncConnection::send(const std::vector<std::string>& args,
                           void (*callback)(redisAsyncContext*, void*, void*), void* data) {
    if (context_ == nullptr) {
        return false;
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    return redisAsyncCommandArgv(context_, callback, data, static_cast<int>(args.size()),
                                 argv.data(), lengths.data()) == REDIS_OK;
}

void AsyncConnection::on_connect(const redisAsyncContext* context, int status) {
    auto* self = static_cast<AsyncConnection*>(context->data);
    if (self == nullptr || status == REDIS_OK) {
        return;  // the handshake's PING reply decides readiness
    }
    // hiredis frees the context after this callback returns.
    self->context_ = nullptr;
    self->lost(context->errstr);
}

void AsyncConnection::on_disconnect(const redisAsyncContext* context, int status) {
    auto* self = static_cast<AsyncConnection*>(context->data);
    if (self == nullptr) {
        return;
    }
    self->context_ = nullptr;  // hiredis frees it after this callback returns
    self->lost(status == REDIS_OK ? std::string("connection closed") : context->errstr);
}

void AsyncConnection::fail(const std::string& reason) {
    if (context_ == nullptr) {
        return;
    }
    release();
    lost(reason);
}

void AsyncConnection::close() {
    release();
    state_ = State::Idle;
    on_ready_ = nullptr;
    on_lost_ = nullptr;
}

void AsyncConnection::release() {
    connect_timer_.cancel();
    if (context_ == nullptr) {
        return;
    }
    redisAsyncContext* context = context_;
    context_ = nullptr;
    context->data = nullptr;  // its remaining callbacks find no owner
    // Safe inside reply callbacks too: hiredis defers the free until they return.
    redisAsyncFree(context);
}

void AsyncConnection::lost(const std::string& reason) {
    state_ = State::Idle;
    connect_timer_.cancel();
    auto handler = std::move(on_lost_);
    on_lost_ = nullptr;
    on_ready_ = nullptr;
    if (!handler) {
        return;
    }
    boost::asio::post(io_, [weak = std::weak_ptr(self_), handler = std::move(handler), reason] {
        if (weak.lock()) {
            handler(reason);
        }
    });
}

}  // namespace bscd
