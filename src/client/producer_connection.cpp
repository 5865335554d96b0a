#include "client/producer_connection.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/client_error.hpp"

namespace bscd::client {

namespace {

std::string errno_text(int error) {
    return std::strerror(error);
}

// Milliseconds left until `deadline`, rounded up; 0 when it has passed.
int remaining_ms(ProducerConnection::Clock::time_point deadline) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - ProducerConnection::Clock::now());
    return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, INT_MAX));
}

[[noreturn]] void throw_connect_error(const std::string& path, int error) {
    switch (error) {
        case ENOENT:
            throw ClientError(path + " does not exist");
        case ECONNREFUSED: {
            // Linux also refuses a connect() to a file that is not a socket.
            struct stat st {};
            if (::stat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
                throw ClientError(path + " is not a socket");
            }
            throw ClientError("connection refused: " + path + " (no bscd is listening there)");
        }
        case EACCES:
        case EPERM:
            throw ClientError("permission denied: " + path);
        case ENOTDIR:
            throw ClientError(path + " does not exist (a parent is not a directory)");
        default:
            throw ClientError("cannot connect to " + path + ": " + errno_text(error));
    }
}

}  // namespace

std::string format_seconds(std::chrono::milliseconds duration) {
    const auto ms = duration.count();
    std::string text = std::to_string(ms / 1000);
    if (const auto fraction = ms % 1000; fraction != 0) {
        std::string digits = std::to_string(fraction + 1000).substr(1);  // "050"
        digits.erase(digits.find_last_not_of('0') + 1);
        text += "." + digits;
    }
    return text + " s";
}

ProducerConnection::ProducerConnection(const std::string& path, std::chrono::milliseconds timeout)
    : path_(path), timeout_(timeout), deadline_(Clock::now() + timeout) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.empty()) {
        throw ClientError("the socket path is empty", ClientError::usage);
    }
    if (path.size() >= sizeof(address.sun_path)) {
        throw ClientError("socket path too long (at most " +
                              std::to_string(sizeof(address.sun_path) - 1) + " bytes): " + path,
                          ClientError::usage);
    }
    std::memcpy(address.sun_path, path.data(), path.size());

    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        throw ClientError("cannot create a socket: " + errno_text(errno));
    }
    // A blocking connect() to a Unix socket waits while the listener's
    // backlog is full, for at most SO_SNDTIMEO; then it fails with EAGAIN.
    const int ms = std::max(remaining_ms(deadline_), 1);
    timeval tv{};
    tv.tv_sec = ms / 1000;
    tv.tv_usec = static_cast<suseconds_t>(ms % 1000) * 1000;
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        const int error = errno;
        ::close(fd_);
        fd_ = -1;
        if (error == EAGAIN || error == EINPROGRESS) {
            throw ClientError("bscd did not accept the connection on " + path + " within " +
                              format_seconds(timeout_));
        }
        throw_connect_error(path, error);
    }
    // From here on, poll() enforces the deadline.
    const int flags = ::fcntl(fd_, F_GETFL);
    ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

ProducerConnection::~ProducerConnection() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool ProducerConnection::wait_for(short events) const {
    for (;;) {
        const int ms = remaining_ms(deadline_);
        if (ms == 0) {
            return false;
        }
        pollfd pfd{fd_, events, 0};
        const int ready = ::poll(&pfd, 1, ms);
        if (ready > 0) {
            return true;  // readable, writable, or an error/hang-up the next call reports
        }
        if (ready < 0 && errno != EINTR) {
            throw ClientError("poll on " + path_ + " failed: " + errno_text(errno));
        }
    }
}

ProducerConnection::WriteResult ProducerConnection::write_all(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_for(POLLOUT)) {
                return WriteResult::TimedOut;
            }
            continue;
        }
        if (errno == EPIPE || errno == ECONNRESET) {
            return WriteResult::PeerClosed;
        }
        throw ClientError("cannot write to " + path_ + ": " + errno_text(errno));
    }
    return WriteResult::Written;
}

ProducerConnection::ReadResult ProducerConnection::read_line() {
    for (;;) {
        const std::size_t newline = buffer_.find('\n');
        if (newline != std::string::npos) {
            std::size_t end = newline;
            if (end > 0 && buffer_[end - 1] == '\r') {
                --end;
            }
            ReadResult result{ReadStatus::Line, buffer_.substr(0, end)};
            buffer_.erase(0, newline + 1);
            return result;
        }
        if (buffer_.size() > max_reply_length) {
            throw ClientError("bscd sent a reply line longer than " +
                              std::to_string(max_reply_length) + " bytes");
        }
        char chunk[512];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) {
            return {ReadStatus::Closed, {}};
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_for(POLLIN)) {
                return {ReadStatus::TimedOut, {}};
            }
            continue;
        }
        if (errno == ECONNRESET || errno == EPIPE) {
            return {ReadStatus::Closed, {}};
        }
        throw ClientError("cannot read from " + path_ + ": " + errno_text(errno));
    }
}

}  // namespace bscd::client
