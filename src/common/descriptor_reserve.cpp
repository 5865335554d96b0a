#include "common/descriptor_reserve.hpp"

#include <array>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bscd {

DescriptorReserve::DescriptorReserve() {
    take();
}

DescriptorReserve::~DescriptorReserve() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void DescriptorReserve::take() {
    if (fd_ < 0) {
        fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
}

bool DescriptorReserve::refuse_one(int listen_fd, std::string_view reply) {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    const int peer = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (peer >= 0) {
        (void)::send(peer, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        // Half-close, and read what the client sent already: closing with
        // unread bytes would reset the connection, and the client could
        // lose the reply.
        (void)::shutdown(peer, SHUT_WR);
        std::array<char, 4096> unread{};
        while (::recv(peer, unread.data(), unread.size(), MSG_DONTWAIT) > 0) {
        }
        ::close(peer);
    }
    take();
    return peer >= 0;
}

}  // namespace bscd
