#include "support/tcp_proxy.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <hiredis/hiredis.h>

namespace bscd::test {
namespace {

constexpr std::size_t max_buffered = 1 << 20;  // per direction; stop reading beyond

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void set_nodelay(int fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Whole RESP messages in one direction of a pair. Traffic that is not
// RESP stops the count (and all_answered() stays false for that pair).
class MessageCounter {
public:
    void feed(const char* data, std::size_t size) {
        if (size == 0 || reader_ == nullptr) {
            return;
        }
        void* message = nullptr;
        if (redisReaderFeed(reader_.get(), data, size) != REDIS_OK) {
            reader_.reset();
            return;
        }
        while (redisReaderGetReply(reader_.get(), &message) == REDIS_OK && message != nullptr) {
            freeReplyObject(message);
            ++count_;
        }
        if (reader_->err != 0) {
            reader_.reset();
        }
    }
    bool broken() const { return reader_ == nullptr; }
    std::size_t count() const { return count_; }

private:
    std::unique_ptr<redisReader, decltype(&redisReaderFree)> reader_{redisReaderCreate(),
                                                                     &redisReaderFree};
    std::size_t count_ = 0;
};

// One forwarded connection: client <-> proxy <-> upstream.
struct Pair {
    int client = -1;
    int upstream = -1;
    std::string to_upstream;
    std::string to_client;
    MessageCounter commands;     // read from the client
    MessageCounter replies;      // written to the client
    bool client_eof = false;     // client sent FIN
    bool upstream_eof = false;   // upstream sent FIN
    bool upstream_shut = false;  // we sent FIN to upstream
    bool client_shut = false;    // we sent FIN to the client
    bool dead = false;

    void close_all() {
        if (client >= 0) {
            ::close(client);
        }
        if (upstream >= 0) {
            ::close(upstream);
        }
        client = upstream = -1;
    }
    bool done() const { return dead || (client_shut && upstream_shut); }
    bool answered() const {
        return !commands.broken() && !replies.broken() && replies.count() >= commands.count();
    }
};

// Reads what is there from `fd` into `buffer`; sets eof or dead.
void read_into(int fd, std::string& buffer, bool& eof, bool& dead) {
    std::array<char, 65536> chunk;
    for (;;) {
        const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
        if (n > 0) {
            buffer.append(chunk.data(), static_cast<std::size_t>(n));
            if (buffer.size() >= max_buffered) {
                return;
            }
            continue;
        }
        if (n == 0) {
            eof = true;
        } else if (errno == EINTR) {
            continue;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            dead = true;
        }
        return;
    }
}

// Writes as much of `buffer` to `fd` as the socket takes, counting what
// went in `sent`, then drops it from `buffer`.
void write_from(int fd, std::string& buffer, bool& dead, MessageCounter* sent = nullptr) {
    std::size_t written = 0;
    while (written < buffer.size()) {
        const ssize_t n =
            ::send(fd, buffer.data() + written, buffer.size() - written, MSG_NOSIGNAL);
        if (n > 0) {
            written += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            dead = true;
        }
        break;
    }
    if (sent != nullptr) {
        sent->feed(buffer.data(), written);
    }
    buffer.erase(0, written);
}

}  // namespace

TcpProxy::TcpProxy(const std::string& upstream_host, int upstream_port)
    : upstream_port_(upstream_port) {
    const std::string host = upstream_host == "localhost" ? "127.0.0.1" : upstream_host;
    in_addr address{};
    if (::inet_pton(AF_INET, host.c_str(), &address) != 1) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "TcpProxy: not an IPv4 address: " + upstream_host);
    }
    upstream_address_ = address.s_addr;

    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) {
        fail("TcpProxy: socket");
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof local;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::listen(listen_fd_, 128) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
        const int error = errno;
        ::close(listen_fd_);
        throw std::system_error(error, std::generic_category(), "TcpProxy: listen");
    }
    port_ = ntohs(local.sin_port);

    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        const int error = errno;
        ::close(listen_fd_);
        throw std::system_error(error, std::generic_category(), "TcpProxy: eventfd");
    }
    thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
    {
        std::lock_guard lock(mutex_);
        control_.stopping = true;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto ignored = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
    ::close(listen_fd_);
    ::close(wake_fd_);
}

template <typename Change>
void TcpProxy::apply(Change change) {
    std::unique_lock lock(mutex_);
    change(control_);
    const std::uint64_t ticket = ++control_.requested;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto ignored = ::write(wake_fd_, &one, sizeof one);
    applied_.wait(lock, [&] { return control_.applied >= ticket; });
}

void TcpProxy::cut() {
    apply([](Control& c) {
        c.cut_now = true;
        c.refusing = true;
    });
}

void TcpProxy::restore() {
    apply([](Control& c) { c.refusing = false; });
}

void TcpProxy::hold_replies(bool hold) {
    apply([hold](Control& c) { c.holding = hold; });
}

std::size_t TcpProxy::connections() const {
    std::lock_guard lock(mutex_);
    return control_.connections;
}

std::size_t TcpProxy::accepted() const {
    std::lock_guard lock(mutex_);
    return control_.accepted;
}

bool TcpProxy::all_answered() const {
    std::lock_guard lock(mutex_);
    return control_.all_answered;
}

void TcpProxy::run() {
    std::vector<Pair> pairs;
    std::vector<pollfd> fds;
    std::size_t accepted = 0;
    bool refusing = false;
    bool holding = false;
    // What the getters read; called with mutex_ held.
    const auto publish_counts = [&] {
        control_.connections = pairs.size();
        control_.accepted = accepted;
        control_.all_answered = std::all_of(pairs.begin(), pairs.end(),
                                            [](const Pair& pair) { return pair.answered(); });
    };

    for (;;) {
        // Controls first: a control call returns only after this block ran,
        // and nothing below uses flags older than the ones applied here.
        {
            std::lock_guard lock(mutex_);
            if (control_.cut_now || control_.stopping) {
                for (auto& pair : pairs) {
                    pair.close_all();
                }
                pairs.clear();
                control_.cut_now = false;
            }
            refusing = control_.refusing;
            holding = control_.holding;
            publish_counts();
            control_.applied = control_.requested;
            if (control_.stopping) {
                applied_.notify_all();
                return;
            }
        }
        applied_.notify_all();

        fds.clear();
        fds.push_back({wake_fd_, POLLIN, 0});
        fds.push_back({listen_fd_, POLLIN, 0});
        for (const auto& pair : pairs) {
            short client_events = 0;
            short upstream_events = 0;
            if (!pair.client_eof && pair.to_upstream.size() < max_buffered) {
                client_events |= POLLIN;
            }
            if (!pair.to_client.empty() && !holding) {
                client_events |= POLLOUT;
            }
            if (!pair.upstream_eof && pair.to_client.size() < max_buffered) {
                upstream_events |= POLLIN;
            }
            if (!pair.to_upstream.empty()) {
                upstream_events |= POLLOUT;
            }
            fds.push_back({pair.client, client_events, 0});
            fds.push_back({pair.upstream, upstream_events, 0});
        }

        if (::poll(fds.data(), fds.size(), -1) < 0) {
            continue;  // EINTR
        }
        if (fds[0].revents != 0) {
            std::uint64_t count = 0;
            [[maybe_unused]] const auto ignored = ::read(wake_fd_, &count, sizeof count);
        }

        for (std::size_t i = 0; i < pairs.size(); ++i) {
            Pair& pair = pairs[i];
            const short client_revents = fds[2 + 2 * i].revents;
            const short upstream_revents = fds[3 + 2 * i].revents;
            if ((client_revents | upstream_revents) & (POLLERR | POLLNVAL)) {
                pair.dead = true;
                continue;
            }
            if (client_revents & (POLLIN | POLLHUP)) {
                if (pair.client_eof) {
                    pair.dead = true;  // hung up completely: nothing left to do
                } else {
                    const std::size_t before = pair.to_upstream.size();
                    read_into(pair.client, pair.to_upstream, pair.client_eof, pair.dead);
                    pair.commands.feed(pair.to_upstream.data() + before,
                                       pair.to_upstream.size() - before);
                }
            }
            if (upstream_revents & (POLLIN | POLLHUP)) {
                if (pair.upstream_eof) {
                    pair.dead = true;
                } else {
                    read_into(pair.upstream, pair.to_client, pair.upstream_eof, pair.dead);
                }
            }
        }
        // A command is counted before Redis can see it: all_answered() is
        // never true for a command Redis has already run.
        {
            std::lock_guard lock(mutex_);
            publish_counts();
        }
        for (auto& pair : pairs) {
            if (!pair.dead && !pair.to_upstream.empty()) {
                write_from(pair.upstream, pair.to_upstream, pair.dead);
            }
            if (!pair.dead && !pair.to_client.empty() && !holding) {
                write_from(pair.client, pair.to_client, pair.dead, &pair.replies);
            }
            // Forward a FIN once everything before it has been forwarded.
            if (!pair.dead && pair.client_eof && pair.to_upstream.empty() && !pair.upstream_shut) {
                ::shutdown(pair.upstream, SHUT_WR);
                pair.upstream_shut = true;
            }
            if (!pair.dead && pair.upstream_eof && pair.to_client.empty() && !pair.client_shut) {
                ::shutdown(pair.client, SHUT_WR);
                pair.client_shut = true;
            }
        }
        for (auto& pair : pairs) {
            if (pair.done()) {
                pair.close_all();
            }
        }
        std::erase_if(pairs, [](const Pair& pair) { return pair.client < 0; });

        if (fds[1].revents & POLLIN) {
            for (;;) {
                const int client =
                    ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (client < 0) {
                    break;  // EAGAIN, or a connection that went away already
                }
                ++accepted;
                if (refusing) {
                    ::close(client);
                    continue;
                }
                const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                sockaddr_in address{};
                address.sin_family = AF_INET;
                address.sin_addr.s_addr = upstream_address_;
                address.sin_port = htons(static_cast<std::uint16_t>(upstream_port_));
                // Blocking connect: upstream is local, it answers or refuses at once.
                if (upstream < 0 || ::connect(upstream, reinterpret_cast<sockaddr*>(&address),
                                              sizeof address) != 0) {
                    if (upstream >= 0) {
                        ::close(upstream);
                    }
                    ::close(client);
                    continue;
                }
                ::fcntl(upstream, F_SETFL, ::fcntl(upstream, F_GETFL) | O_NONBLOCK);
                set_nodelay(client);
                set_nodelay(upstream);
                Pair pair;
                pair.client = client;
                pair.upstream = upstream;
                pairs.push_back(std::move(pair));
            }
        }
        // The counts are published again at the top of the loop, before poll().
    }
}

}  // namespace bscd::test
