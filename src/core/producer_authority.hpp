#pragma once
// Who may do what on bscd's producer socket, decided from the kernel's word
// on the peer (SO_PEERCRED) and nothing else: pure, so that every case can be
// tried without root or a second user.

#include <algorithm>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bscd {

// Who is on the other end of a Unix socket.
struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
};

struct ProducerAuthority {
    uid_t owner = 0;                  // the daemon's effective uid, which owns the socket
    std::vector<uid_t> allowed_uids;  // --allow-uid
    std::vector<gid_t> allowed_gids;  // --allow-gid: the peer's primary group

    // Whether bscd serves `peer`: anyone who can open the socket when no
    // --allow-* was given; otherwise a listed uid or primary gid, the owner,
    // or root.
    [[nodiscard]] bool may_connect(const PeerCredentials& peer) const {
        if (allowed_uids.empty() && allowed_gids.empty()) {
            return true;
        }
        return may_exit(peer) ||
               std::find(allowed_uids.begin(), allowed_uids.end(), peer.uid) !=
                   allowed_uids.end() ||
               std::find(allowed_gids.begin(), allowed_gids.end(), peer.gid) != allowed_gids.end();
    }

    // Whether `peer` may stop the daemon: the owner and root only, whatever
    // the allow lists say (they let others send codes, not end the build).
    [[nodiscard]] bool may_exit(const PeerCredentials& peer) const {
        return peer.uid == owner || peer.uid == 0;
    }

    // The reply to an EXIT that may_exit() refused.
    [[nodiscard]] std::string exit_refusal() const {
        return "ERR EXIT is allowed only to uid " + std::to_string(owner) + " and root";
    }
};

}  // namespace bscd
