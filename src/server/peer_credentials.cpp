#include "server/peer_credentials.hpp"

#include <sys/socket.h>

namespace bscd {

PeerCredentials peer_credentials(int socket_fd) {
    ucred credentials{};
    socklen_t length = sizeof(credentials);
    if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
        return {};
    }
    return {credentials.pid, credentials.uid, credentials.gid};
}

}  // namespace bscd
