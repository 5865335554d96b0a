#pragma once
// Who is on the other end of a Unix socket, as the kernel says (SO_PEERCRED):
// used to authorise EXIT and to name the peer's pid in log lines.

#include <sys/types.h>

namespace bscd {

struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
};

// The credentials of a connected Unix socket; pid 0 if the kernel will not tell.
PeerCredentials peer_credentials(int socket_fd);

}  // namespace bscd
