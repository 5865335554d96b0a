#include "gateway/metrics.hpp"

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bscd {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

// The samples only: "name{labels} value" lines.
std::vector<std::string> samples_of(const std::string& text) {
    std::vector<std::string> samples;
    for (const std::string& line : lines_of(text)) {
        if (!line.empty() && line.front() != '#') {
            samples.push_back(line);
        }
    }
    return samples;
}

TEST(Metrics, RendersEveryMetricOfTheSpec) {
    GatewayMetrics metrics;
    metrics.connections = 12;
    metrics.connections_refused_total = 3;
    metrics.sse_viewers = 7;
    metrics.websocket_viewers = 4;
    metrics.projects_followed = 2;
    metrics.events_received_total = 100;
    metrics.events_relayed_total = 1100;
    metrics.viewers_dropped_slow_total = 1;
    metrics.redis_reconnects_total = 5;
    metrics.redis_connect_failures_total = 11;
    metrics.redis_up = true;
    metrics.history_reads_total = 9;
    metrics.history_reads_coalesced_total = 40;
    metrics.history_gaps_total = 2;
    metrics.backfills_total = 6;
    metrics.loop_viewers = {6, 5};
    metrics.refused_client_rate_total = 8;
    metrics.refused_project_full_total = 6;
    metrics.rate_clients = 30;
    const std::vector<std::string> expected = {
        "bscd_gateway_connections 12",
        "bscd_gateway_connections_refused_total 3",
        "bscd_gateway_requests_refused_total{reason=\"client_rate\"} 8",
        "bscd_gateway_requests_refused_total{reason=\"project_viewers\"} 6",
        "bscd_gateway_clients_tracked 30",
        "bscd_gateway_viewers{transport=\"sse\"} 7",
        "bscd_gateway_viewers{transport=\"websocket\"} 4",
        "bscd_gateway_projects_followed 2",
        "bscd_gateway_events_received_total 100",
        "bscd_gateway_events_relayed_total 1100",
        "bscd_gateway_viewers_dropped_slow_total 1",
        "bscd_gateway_redis_reconnects_total 5",
        "bscd_gateway_redis_connect_failures_total 11",
        "bscd_gateway_history_reads_total 9",
        "bscd_gateway_history_reads_coalesced_total 40",
        "bscd_gateway_history_gaps_total 2",
        "bscd_gateway_backfills_total 6",
        "bscd_gateway_redis_up 1",
        "bscd_gateway_loops 2",
        "bscd_gateway_loop_viewers{loop=\"0\"} 6",
        "bscd_gateway_loop_viewers{loop=\"1\"} 5",
    };
    EXPECT_EQ(samples_of(metrics.render()), expected);
}

TEST(Metrics, StartsAtZeroWithRedisDown) {
    for (const std::string& sample : samples_of(GatewayMetrics{}.render())) {
        EXPECT_EQ(sample.substr(sample.rfind(' ')), " 0") << sample;
    }
}

TEST(Metrics, HelpAndTypeBeforeEachMetric) {
    const std::vector<std::string> lines = lines_of(GatewayMetrics{}.render());
    std::set<std::string> described;
    std::string type_of_current;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        ASSERT_FALSE(line.empty());
        if (line.rfind("# HELP ", 0) == 0) {
            const std::string name = line.substr(7, line.find(' ', 7) - 7);
            EXPECT_TRUE(described.insert(name).second) << "described twice: " << name;
            ASSERT_LT(i + 1, lines.size());
            const std::string& type = lines[i + 1];
            ASSERT_EQ(type.rfind("# TYPE " + name + " ", 0), 0U) << type;
            type_of_current = type.substr(8 + name.size());
            // Prometheus convention: counters, and only they, end in _total.
            const bool total = name.size() > 6 && name.substr(name.size() - 6) == "_total";
            EXPECT_EQ(type_of_current, total ? "counter" : "gauge") << name;
            ++i;
            continue;
        }
        ASSERT_NE(line.front(), '#') << line;
        // A sample belongs to the metric described last.
        const std::string name = line.substr(0, line.find_first_of("{ "));
        EXPECT_EQ(described.count(name), 1U) << line;
    }
    EXPECT_EQ(described.size(), 18U);
}

TEST(Metrics, EndsWithNewline) {
    const std::string text = GatewayMetrics{}.render();
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(Metrics, LargeCountersAreExact) {
    GatewayMetrics metrics;
    metrics.events_relayed_total = 18446744073709551615ULL;
    const std::string text = metrics.render();
    EXPECT_NE(text.find("\nbscd_gateway_events_relayed_total 18446744073709551615\n"),
              std::string::npos);
}

TEST(Metrics, ContentType) {
    EXPECT_EQ(metrics_content_type, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace bscd
