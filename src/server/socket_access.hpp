#pragma once
// Who may use bscd's producer socket: the file's mode and group, set right
// after bind (--socket-mode, --socket-group), and an optional list of users
// and groups the daemon serves (--allow-uid, --allow-gid), checked with the
// kernel's word for who the peer is (SO_PEERCRED) before a session starts
// (ProducerAuthority, core/producer_authority.hpp, also decides EXIT).

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "core/producer_authority.hpp"

namespace bscd {

struct SocketAccess {
    mode_t mode = 0660;          // --socket-mode: owner and group may connect
    std::optional<gid_t> group;  // --socket-group: the file's group; the daemon's own without
    // --allow-uid, --allow-gid, with the daemon's effective uid as the owner.
    ProducerAuthority authority;
};

// "0660", "660", "0600": a permission mode from 0000 to 0777; nullopt otherwise.
std::optional<mode_t> parse_socket_mode(std::string_view text);

// A user or group as a number or a name (getpwnam, getgrnam); nullopt when
// it is neither.
std::optional<uid_t> resolve_user(const std::string& name);
std::optional<gid_t> resolve_group(const std::string& name);

// The umask to bind() the socket under: the file it creates then has no
// more than the owner's part of `access.mode`, until apply_socket_access().
mode_t bind_umask(const SocketAccess& access);

// Gives the socket file at `path`, just bound, `access`'s group and mode.
// Throws StartupError naming the file, the group or mode and the cause.
void apply_socket_access(const std::string& path, const SocketAccess& access);

}  // namespace bscd
