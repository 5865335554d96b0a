#include "redis/asio_adapter.hpp"

#include <memory>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <hiredis/async.h>

namespace bscd {
namespace {

using boost::asio::posix::stream_descriptor;

// Shared by the hiredis hooks and any wait in progress, so that a wait that
// completes after hiredis freed the context finds `context` null and stops.
struct Watch : std::enable_shared_from_this<Watch> {
    Watch(redisAsyncContext* ctx, boost::asio::io_context& io) : context(ctx), socket(io) {}

    redisAsyncContext* context;
    stream_descriptor socket;  // borrows hiredis' fd; released, never closed, by us
    bool want_read = false;
    bool want_write = false;
    bool read_armed = false;
    bool write_armed = false;

    void arm(stream_descriptor::wait_type type) {
        const bool read = type == stream_descriptor::wait_read;
        (read ? read_armed : write_armed) = true;
        socket.async_wait(type, [self = shared_from_this(), read](boost::system::error_code ec) {
            (read ? self->read_armed : self->write_armed) = false;
            if (ec || self->context == nullptr) {
                return;
            }
            // hiredis may free the context inside these calls (cleanup hook).
            if (read && self->want_read) {
                redisAsyncHandleRead(self->context);
            } else if (!read && self->want_write) {
                redisAsyncHandleWrite(self->context);
            }
            self->rearm();
        });
    }

    void rearm() {
        if (context == nullptr) {
            return;
        }
        if (want_read && !read_armed) {
            arm(stream_descriptor::wait_read);
        }
        if (want_write && !write_armed) {
            arm(stream_descriptor::wait_write);
        }
    }
};

// hiredis' hooks receive ev.data: a heap copy of the shared pointer.
Watch& watch_of(void* data) {
    return **static_cast<std::shared_ptr<Watch>*>(data);
}

void add_read(void* data) {
    watch_of(data).want_read = true;
    watch_of(data).rearm();
}
void del_read(void* data) {
    watch_of(data).want_read = false;  // an armed wait finds nothing wanted
}
void add_write(void* data) {
    watch_of(data).want_write = true;
    watch_of(data).rearm();
}
void del_write(void* data) {
    watch_of(data).want_write = false;
}
void cleanup(void* data) {
    auto* holder = static_cast<std::shared_ptr<Watch>*>(data);
    Watch& watch = **holder;
    watch.context = nullptr;
    boost::system::error_code ignored;
    watch.socket.cancel(ignored);
    (void)watch.socket.release();  // hiredis closes its own fd
    delete holder;
}

}  // namespace

bool attach_to_asio(redisAsyncContext* context, boost::asio::io_context& io) {
    if (context->ev.data != nullptr) {
        return false;
    }
    auto watch = std::make_shared<Watch>(context, io);
    watch->socket.assign(context->c.fd);
    context->ev.data = new std::shared_ptr<Watch>(std::move(watch));
    context->ev.addRead = add_read;
    context->ev.delRead = del_read;
    context->ev.addWrite = add_write;
    context->ev.delWrite = del_write;
    context->ev.cleanup = cleanup;
    return true;
}

}  // namespace bscd
