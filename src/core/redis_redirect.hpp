#pragma once
// What a Redis error reply asks of the client: go to another cluster node
// (MOVED, ASK), find the Sentinel master again (READONLY, MASTERDOWN,
// LOADING), or try again later (NOREPLICAS, TRYAGAIN, CLUSTERDOWN). The
// texts are the error replies without RESP's leading '-', as hiredis gives
// them.

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/host_port.hpp"

namespace bscd {

struct Redirect {
    // Moved: the slot now lives on `node`, for good. Ask: send only the
    // next command for it there, preceded by ASKING (a slot being migrated).
    enum class Kind { Moved, Ask } kind;
    std::uint16_t slot;
    HostPort node;

    bool operator==(const Redirect&) const = default;
};

// Parses "MOVED 3999 127.0.0.1:6381" and "ASK 3999 127.0.0.1:6381". The
// endpoint may be an IP address (IPv6 ones as Redis writes them, "::1:6381",
// or bracketed), a hostname, or empty (":6381", Redis 7's
// cluster-preferred-endpoint-type unknown-endpoint): then the node is on
// `replying_host`, the host of the node that answered, with the given port.
// nullopt for any other text, for a slot outside 0..16383, for a bad port,
// for an empty endpoint when replying_host is empty too, and for "?" (a node
// announcing hostnames without having one: there is nowhere to go, so the
// caller refreshes its slot map as after any other failure).
std::optional<Redirect> parse_redirect(std::string_view error_text, std::string_view replying_host);

// READONLY, MASTERDOWN, LOADING (the error's first word): the node is no
// longer, or not yet, a usable master, so a Sentinel client asks the
// sentinels for the master again.
bool is_retry_elsewhere_error(std::string_view error_text);

// NOREPLICAS, TRYAGAIN, CLUSTERDOWN (the error's first word): the right node
// cannot take the write just now (min-replicas not met, a multi-key command
// during a resharding, a cluster without quorum); the same command may
// succeed after a pause.
bool is_try_later_error(std::string_view error_text);

}  // namespace bscd
