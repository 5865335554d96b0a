#include "common/descriptor_reserve.hpp"

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
        // Half-close first: the reply goes out before the FIN, and a request
        // still unread does not turn the close into a reset as readily.
        (void)::shutdown(peer, SHUT_WR);
        ::close(peer);
    }
    take();
    return peer >= 0;
}

}  // namespace bscd
