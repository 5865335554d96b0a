#pragma once
// Who is on the other end of a Unix socket, as the kernel says (SO_PEERCRED):
// used to authorise EXIT and to name the peer's pid in log lines.

#include "core/producer_authority.hpp"

namespace bscd {

// The credentials of a connected Unix socket; pid 0 if the kernel will not tell.
PeerCredentials peer_credentials(int socket_fd);

}  // namespace bscd
