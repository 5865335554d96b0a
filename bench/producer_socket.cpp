#include "producer_socket.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <system_error>
#include <unistd.h>

namespace bench {

namespace {

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

ProducerSocket::ProducerSocket(const std::string& path, std::chrono::milliseconds timeout) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof(address.sun_path)) {
        errno = ENAMETOOLONG;
        fail("socket path");
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        fail("socket");
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
        ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        const int error = errno;
        ::close(fd_);
        fd_ = -1;
        errno = error;
        fail("connect to bscd");
    }
}

ProducerSocket::~ProducerSocket() {
    close();
}

void ProducerSocket::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void ProducerSocket::write_all(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("write to bscd");
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::size_t ProducerSocket::take_lines(const char* data, std::size_t size, std::size_t& awaited) {
    std::size_t ok = 0;
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] != '\n') {
            pending_ += data[i];
            continue;
        }
        if (awaited == 0) {
            errno = EPROTO;
            fail("bscd sent more replies than requests");
        }
        --awaited;
        ok += pending_ == "OK" ? 1 : 0;
        pending_.clear();
    }
    return ok;
}

std::size_t ProducerSocket::read_replies(std::size_t lines) {
    std::size_t ok = 0;
    std::array<char, 4096> buffer{};
    while (lines > 0) {
        const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("read from bscd");
        }
        if (n == 0) {
            errno = ECONNRESET;
            fail("bscd closed the connection before replying");
        }
        ok += take_lines(buffer.data(), static_cast<std::size_t>(n), lines);
    }
    return ok;
}

std::size_t ProducerSocket::read_available(std::size_t& awaited) {
    std::array<char, 16384> buffer{};
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        fail("read from bscd");
    }
    if (n == 0) {
        errno = ECONNRESET;
        fail("bscd closed the connection before replying");
    }
    return take_lines(buffer.data(), static_cast<std::size_t>(n), awaited);
}

}  // namespace bench
