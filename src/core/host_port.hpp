#pragma once
// A node's address as operators write it: "HOST:PORT" (IPv6 as
// "[::1]:6379"), for --redis-sentinel, --redis-cluster and the addresses
// Redis itself hands out (sentinel replies, MOVED, CLUSTER SLOTS).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bscd {

struct HostPort {
    std::string host;
    int port = 0;

    [[nodiscard]] std::string str() const;  // "10.0.0.1:26379", "[::1]:6379"
    // nullopt unless a non-empty host and a port in 1..65535.
    static std::optional<HostPort> parse(std::string_view text);

    bool operator==(const HostPort&) const = default;
};

// A comma-separated list ("a:1,b:2", blanks around items allowed), as the
// environment variables REDIS_SENTINELS and REDIS_CLUSTER hold it; nullopt
// when any item is malformed. An empty text is an empty list.
std::optional<std::vector<HostPort>> parse_host_port_list(std::string_view text);

}  // namespace bscd
