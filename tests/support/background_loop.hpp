#pragma once
// An io_context run by one background thread, for test helpers that keep
// many connections open at once. A work guard keeps the thread running
// until close(), so work can be posted at any time before that.

#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace bscd::test {

class BackgroundLoop {
public:
    // Starts the thread.
    BackgroundLoop();
    // close().
    ~BackgroundLoop();
    BackgroundLoop(const BackgroundLoop&) = delete;
    BackgroundLoop& operator=(const BackgroundLoop&) = delete;

    // For the sockets and timers run on the thread.
    boost::asio::io_context& io() { return io_; }

    template <typename Handler>
    void post(Handler&& handler) {
        boost::asio::post(io_, std::forward<Handler>(handler));
    }

    // Drops the work guard and joins the thread, which first finishes the
    // pending work: the owner's sockets and timers must be closed by then,
    // or this waits for them. Idempotent.
    void close();
    // Runs `last` on the thread first, e.g. to close the owner's sockets
    // there; does nothing once closed.
    template <typename Handler>
    void close(Handler&& last) {
        if (!thread_.joinable()) {
            return;
        }
        post(std::forward<Handler>(last));
        close();
    }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
};

}  // namespace bscd::test
