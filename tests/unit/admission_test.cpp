#include "gateway/admission.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bscd {
namespace {

using namespace std::chrono_literals;

IpAddress ip(const std::string& text) {
    return parse_ip_address(text).value();
}

Route route_to(const std::string& target) {
    return parse_route(target);
}

GatewayOptions limited(double rate, std::size_t burst, std::size_t viewers) {
    GatewayOptions options;
    options.client_rate = rate;
    options.client_burst = burst;
    options.max_project_viewers = viewers;
    return options;
}

TEST(Admission, DefaultsLetAWholeGatewayComeBackFromOneAddress) {
    const GatewayOptions defaults;
    EXPECT_EQ(defaults.client_burst, defaults.max_connections);
    EXPECT_EQ(defaults.max_project_viewers, defaults.max_connections / 2);
    EXPECT_GT(defaults.client_rate, 0);
    Admission admission(defaults);
    const Route events = route_to("/api/v1/projects/demo/events");
    const auto now = Admission::Clock::now();
    for (std::size_t i = 0; i < defaults.max_connections; ++i) {
        ASSERT_EQ(admission.over_rate(ip("127.0.0.1"), events, now), std::nullopt) << i;
    }
    EXPECT_NE(admission.over_rate(ip("127.0.0.1"), events, now), std::nullopt);
}

TEST(Admission, CountsRefusalsAndSparesHealthAndMetrics) {
    Admission admission(limited(1, 2, 0));
    const auto now = Admission::Clock::now();
    const Route page = route_to("/projects/demo");
    EXPECT_EQ(admission.over_rate(ip("198.51.100.1"), page, now), std::nullopt);
    EXPECT_EQ(admission.over_rate(ip("198.51.100.1"), page, now), std::nullopt);
    EXPECT_EQ(admission.over_rate(ip("198.51.100.1"), page, now), std::optional(1s));
    EXPECT_EQ(admission.over_rate(ip("198.51.100.1"), route_to("/assets/app.js"), now),
              std::optional(1s));
    EXPECT_EQ(admission.refused_for_rate(), 2U);
    // Monitoring sees the gateway whatever the client did.
    EXPECT_EQ(admission.over_rate(ip("198.51.100.1"), route_to("/healthz"), now), std::nullopt);
    EXPECT_EQ(admission.over_rate(ip("198.51.100.1"), route_to("/metrics"), now), std::nullopt);
    // Another client, and the same one once its bucket has refilled.
    EXPECT_EQ(admission.over_rate(ip("198.51.100.2"), page, now), std::nullopt);
    EXPECT_EQ(admission.over_rate(ip("198.51.100.1"), page, now + 1s), std::nullopt);
    EXPECT_EQ(admission.rate_clients(), 2U);
    EXPECT_EQ(admission.refused_for_rate(), 2U);
}

TEST(Admission, RateZeroIsNoLimit) {
    Admission admission(limited(0, 1, 0));
    const auto now = Admission::Clock::now();
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(admission.over_rate(ip("198.51.100.1"), route_to("/projects/demo"), now),
                  std::nullopt);
    }
    EXPECT_EQ(admission.rate_clients(), 0U);
}

TEST(Admission, TrustsOnlyItsProxiesForwardedFor) {
    GatewayOptions options;
    options.trusted_proxies = {*parse_ip_network("10.0.0.0/8")};
    Admission admission(options);
    EXPECT_EQ(admission.client_of(ip("10.0.0.5"), "203.0.113.7"), ip("203.0.113.7"));
    EXPECT_EQ(admission.client_of(ip("127.0.0.1"), "203.0.113.7"), ip("127.0.0.1"));
}

TEST(Admission, SeatsPerProjectAreGivenBackWithTheViewer) {
    Admission admission(limited(0, 1, 2));
    std::vector<Admission::Seat> demo;
    for (int i = 0; i < 2; ++i) {
        auto seat = admission.seat("demo");
        ASSERT_TRUE(seat);
        demo.push_back(std::move(*seat));
    }
    EXPECT_EQ(admission.seated("demo"), 2U);
    EXPECT_FALSE(admission.seat("demo"));
    EXPECT_EQ(admission.refused_project_full(), 1U);
    // Other projects are not affected.
    auto other = admission.seat("other");
    EXPECT_TRUE(other);
    // A seat moved along (the session handing its connection over) is one seat.
    Admission::Seat moved(std::move(demo.back()));
    demo.pop_back();
    EXPECT_EQ(admission.seated("demo"), 2U);
    { const Admission::Seat leaving(std::move(moved)); }
    EXPECT_EQ(admission.seated("demo"), 1U);
    EXPECT_TRUE(admission.seat("demo"));  // taken and given back at once
    demo.clear();
    EXPECT_EQ(admission.seated("demo"), 0U);
    EXPECT_EQ(admission.refused_project_full(), 1U);
}

TEST(Admission, NoCapWithZero) {
    Admission admission(limited(0, 1, 0));
    std::vector<Admission::Seat> seats;
    for (int i = 0; i < 1000; ++i) {
        auto seat = admission.seat("demo");
        ASSERT_TRUE(seat);
        seats.push_back(std::move(*seat));
    }
    EXPECT_EQ(admission.seated("demo"), 1000U);
}

}  // namespace
}  // namespace bscd
