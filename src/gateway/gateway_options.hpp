#pragma once
// Everything bscd-gateway is told on its command line (docs/gateway.md).

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/client_address.hpp"
#include "core/estimate.hpp"
#include "redis/redis_options.hpp"

namespace bscd {

struct GatewayOptions {
    std::string listen_address = "127.0.0.1";  // --listen ADDR:PORT
    unsigned short listen_port = 8080;
    RedisOptions redis;
    std::string codes_file;                  // --codes; empty: the built-in catalog
    std::vector<std::string> allow_origins;  // --allow-origin, "*" for any
    std::string token_secret;                // --token-secret / file / BSCD_TOKEN_SECRET
    std::string print_token_for;             // --print-token PROJECT; operator_scope
    std::size_t threads = 0;                 // --threads; 0: one per CPU (threads_to_run())
    std::size_t max_connections = 10'000;
    std::chrono::milliseconds idle_timeout{30'000};
    std::chrono::milliseconds heartbeat{15'000};
    std::size_t viewer_queue = 1024;  // live events a viewer may fall behind
    // Limits (docs/gateway.md, "Limits"); 0 turns a limit off. Sized so that
    // a whole gateway's viewers can come back at once from one address.
    double client_rate = 1000;          // requests a second per client, on average
    std::size_t client_burst = 10'000;  // at once; --max-connections unless given
    std::vector<IpNetwork> trusted_proxies = loopback_networks();  // --trust-proxy
    std::size_t max_project_viewers = 5'000;  // per project; half --max-connections unless given
    EstimateRules estimate_rules;             // --stall-margin
    bool verbose = false;
    std::string log_file;

    // The event loops to run: --threads, or one per CPU.
    [[nodiscard]] std::size_t threads_to_run() const;

    // The Access-Control-Allow-Origin value for a request from `origin`, or
    // nullopt when cross-origin access is not allowed for it. (Inline: the
    // request decision, fuzzed without the command-line parser, uses it.)
    [[nodiscard]] std::optional<std::string> allowed_origin(std::string_view origin) const {
        for (const auto& allowed : allow_origins) {
            if (allowed == "*") {
                return std::string("*");
            }
            if (!origin.empty() && allowed == origin) {
                return allowed;
            }
        }
        return std::nullopt;
    }
};

// Parses the command line: the options, or the status to exit with (0 after
// --help, 2 on a usage error, already explained on stderr).
struct ParsedGatewayOptions {
    std::optional<GatewayOptions> options;
    int exit_status = 0;
};
ParsedGatewayOptions parse_gateway_options(int argc, char** argv);

}  // namespace bscd
