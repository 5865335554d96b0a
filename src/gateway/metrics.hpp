#pragma once
// The gateway's counters and gauges, and their /metrics page
// (docs/gateway.md, "Metrics"). Each event loop counts its own viewers and
// writes (LoopMetrics: no number on the per-viewer path is shared between
// threads); the Redis loop sums them into a GatewayMetrics to render.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bscd {

// Content-Type of render()'s output: Prometheus text exposition format 0.0.4.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

// A number that one thread changes and any may read.
class Tally {
public:
    void add(std::uint64_t n = 1) { set(get() + n); }
    void subtract(std::uint64_t n = 1) { set(get() - n); }
    [[nodiscard]] std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

private:
    void set(std::uint64_t value) { value_.store(value, std::memory_order_relaxed); }
    std::atomic<std::uint64_t> value_{0};
};

// What one event loop counts, only on its own thread.
struct LoopMetrics {
    Tally sse_viewers;
    Tally websocket_viewers;
    Tally events_relayed_total;
    Tally viewers_dropped_slow_total;
    Tally follows_coalesced;  // viewers whose project's feed the loop had already
};

// The figures of one /metrics page.
struct GatewayMetrics {
    // Gauges: what is open now.
    std::uint64_t connections = 0;        // HTTP connections, streams included
    std::uint64_t sse_viewers = 0;        // event streams
    std::uint64_t websocket_viewers = 0;  // WebSocket viewers
    std::uint64_t projects_followed = 0;  // projects with a live subscription
    bool redis_up = false;                // Redis answers

    // Counters: only ever increase while the process lives.
    std::uint64_t connections_refused_total = 0;      // over --max-connections, out of fds
    std::uint64_t events_received_total = 0;          // history entries read from Redis
    std::uint64_t events_relayed_total = 0;           // events written to viewers
    std::uint64_t viewers_dropped_slow_total = 0;     // over --viewer-queue behind
    std::uint64_t redis_reconnects_total = 0;         // Redis links re-established
    std::uint64_t redis_connect_failures_total = 0;   // attempts that got no link
    std::uint64_t history_reads_total = 0;            // XRANGEs of the feeds
    std::uint64_t history_reads_coalesced_total = 0;  // followers served by a read already made
    std::uint64_t history_gaps_total = 0;  // gap events: entries trimmed before they were read
    std::uint64_t backfills_total = 0;     // viewers given events their feed no longer kept
    std::uint64_t refused_client_rate_total = 0;   // 429: over --client-rate
    std::uint64_t refused_project_full_total = 0;  // 503: over --max-project-viewers
    std::uint64_t rate_clients = 0;  // gauge: client addresses the rate limit keeps a count of

    // Viewers (both transports) of each event loop, by index.
    std::vector<std::uint64_t> loop_viewers;

    // The Prometheus text exposition format: for each metric a "# HELP" and a
    // "# TYPE" line, then its samples, names prefixed "bscd_gateway_".
    [[nodiscard]] std::string render() const;
};

}  // namespace bscd
