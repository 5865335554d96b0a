#pragma once
// The gateway's counters and gauges, and their /metrics page
// (docs/gateway.md, "Metrics"). Plain integers: the gateway runs on one
// thread.

#include <cstdint>
#include <string>
#include <string_view>

namespace bscd {

// Content-Type of render()'s output: Prometheus text exposition format 0.0.4.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

struct GatewayMetrics {
    // Gauges: what is open now.
    std::uint64_t connections = 0;        // HTTP connections, streams included
    std::uint64_t sse_viewers = 0;        // event streams
    std::uint64_t websocket_viewers = 0;  // WebSocket viewers
    std::uint64_t projects_followed = 0;  // projects with a live subscription
    bool redis_up = false;                // Redis answers

    // Counters: only ever increase while the process lives.
    std::uint64_t connections_refused_total = 0;   // over --max-connections, out of fds
    std::uint64_t events_received_total = 0;       // history entries read from Redis
    std::uint64_t events_relayed_total = 0;        // events written to viewers
    std::uint64_t viewers_dropped_slow_total = 0;  // over --viewer-queue behind
    std::uint64_t redis_reconnects_total = 0;      // Redis links re-established

    // The Prometheus text exposition format: for each metric a "# HELP" and a
    // "# TYPE" line, then its samples, names prefixed "bscd_gateway_".
    [[nodiscard]] std::string render() const;
};

}  // namespace bscd
