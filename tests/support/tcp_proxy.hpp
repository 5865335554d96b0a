#pragma once
// A TCP forwarder for fault tests, e.g. between bscd and Redis: it can cut
// every connection at once, refuse new ones, and hold back replies.
//
// One background thread runs poll() over the listening socket and every
// forwarded pair; controls wake it through an eventfd and return only once
// the thread has applied them, so "cut(); then ..." is ordered.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace bscd::test {

class TcpProxy {
public:
    // Listens on 127.0.0.1 on a free port (its own socket: no race) and
    // forwards each accepted connection to upstream_host:upstream_port
    // (an IPv4 address). Throws std::system_error on failure.
    TcpProxy(const std::string& upstream_host, int upstream_port);
    // Stops the thread and closes every socket.
    ~TcpProxy();
    TcpProxy(const TcpProxy&) = delete;
    TcpProxy& operator=(const TcpProxy&) = delete;

    int port() const { return port_; }

    // Closes every current connection pair (both sides) at once, discarding
    // held bytes; from then on new connections are accepted and closed at
    // once, until restore().
    void cut();
    // Normal forwarding again (for new connections).
    void restore();
    // While true, bytes from upstream to the client are buffered, not
    // forwarded; false forwards what was held. Client-to-upstream traffic
    // is not affected.
    void hold_replies(bool hold);

    // Forwarded pairs open now.
    std::size_t connections() const;
    // Connections accepted since construction, including cut ones.
    std::size_t accepted() const;
    // Every command a client sent on an open pair has had a reply forwarded
    // to it (whole RESP messages, counted each way; pushes count as
    // replies). Once true, hold_replies() can hold only later replies: a
    // client is past its handshake when a test starts holding.
    bool all_answered() const;

private:
    struct Control {
        bool cut_now = false;  // close the current pairs
        bool refusing = false;
        bool holding = false;
        bool stopping = false;
        std::uint64_t requested = 0;
        std::uint64_t applied = 0;
        std::size_t connections = 0;
        std::size_t accepted = 0;
        bool all_answered = true;
    };

    template <typename Change>
    void apply(Change change);
    void run();

    int upstream_port_;
    std::uint32_t upstream_address_ = 0;  // network order
    int listen_fd_ = -1;
    int wake_fd_ = -1;
    int port_ = 0;

    mutable std::mutex mutex_;
    std::condition_variable applied_;
    Control control_;
    std::thread thread_;
};

}  // namespace bscd::test
