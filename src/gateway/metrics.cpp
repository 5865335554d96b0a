#include "gateway/metrics.hpp"

namespace bscd {

namespace {

void describe(std::string& out, std::string_view name, std::string_view type,
              std::string_view help) {
    out.append("# HELP bscd_gateway_").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE bscd_gateway_").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
    out.append("bscd_gateway_").append(name).append(labels).append(" ");
    out.append(std::to_string(value)).append("\n");
}

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            std::uint64_t value) {
    describe(out, name, type, help);
    sample(out, name, "", value);
}

}  // namespace

std::string GatewayMetrics::render() const {
    std::string out;
    out.reserve(2048);
    metric(out, "connections", "gauge", "Open HTTP connections.", connections);
    metric(out, "connections_refused_total", "counter",
           "Connections refused: over --max-connections, or out of descriptors.",
           connections_refused_total);
    describe(out, "requests_refused_total", "counter",
             "Requests refused by a limit: client_rate (429, over --client-rate), "
             "project_viewers (503, over --max-project-viewers).");
    sample(out, "requests_refused_total", R"({reason="client_rate"})", refused_client_rate_total);
    sample(out, "requests_refused_total", R"({reason="project_viewers"})",
           refused_project_full_total);
    metric(out, "clients_tracked", "gauge",
           "Client addresses the request rate limit keeps a count of (at most 50000).",
           rate_clients);
    describe(out, "viewers", "gauge", "Viewers connected, by transport.");
    sample(out, "viewers", R"({transport="sse"})", sse_viewers);
    sample(out, "viewers", R"({transport="websocket"})", websocket_viewers);
    metric(out, "projects_followed", "gauge", "Projects with a live subscription.",
           projects_followed);
    metric(out, "events_received_total", "counter", "History entries read from Redis.",
           events_received_total);
    metric(out, "events_relayed_total", "counter", "Events written to viewers.",
           events_relayed_total);
    metric(out, "viewers_dropped_slow_total", "counter", "Viewers disconnected for being slow.",
           viewers_dropped_slow_total);
    metric(out, "redis_reconnects_total", "counter", "Redis links re-established.",
           redis_reconnects_total);
    metric(out, "redis_connect_failures_total", "counter",
           "Attempts to connect a Redis link that failed: Redis down, refused credentials, "
           "or no descriptor left.",
           redis_connect_failures_total);
    metric(out, "history_reads_total", "counter",
           "History reads (XRANGE): the projects' feeds, state requests and backfills, each "
           "up to 1000 entries.",
           history_reads_total);
    metric(out, "history_reads_coalesced_total", "counter",
           "Viewers (and loops) that joined a feed already open: no history read of their own.",
           history_reads_coalesced_total);
    metric(out, "history_gaps_total", "counter",
           "Gap events sent: history entries Redis trimmed before the gateway read them.",
           history_gaps_total);
    metric(out, "backfills_total", "counter",
           "Viewers whose older events were read again from Redis: their feed no longer kept "
           "them.",
           backfills_total);
    metric(out, "redis_up", "gauge", "1 while Redis answers, 0 otherwise.", redis_up ? 1 : 0);
    metric(out, "loops", "gauge", "Event loops (--threads) sharing the viewers.",
           loop_viewers.size());
    describe(out, "loop_viewers", "gauge", "Viewers connected, by event loop.");
    for (std::size_t loop = 0; loop < loop_viewers.size(); ++loop) {
        sample(out, "loop_viewers", "{loop=\"" + std::to_string(loop) + "\"}", loop_viewers[loop]);
    }
    return out;
}

}  // namespace bscd
