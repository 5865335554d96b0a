// bscd-gateway on several event loops (--threads): viewers spread over the
// loops each get every event, while the project's history is read once and
// subscribed once for the whole process, however many loops have viewers.

#include <string>
#include <vector>

#include "support/gateway_fixture.hpp"
#include "support/sse_swarm.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

class GatewayLoopsTest : public GatewayTest {
protected:
    double metric(const std::string& series) const { return gateway_metric(series).value_or(-1); }
    long long subscribers() {
        return redis.command({"PUBSUB", "NUMSUB", "bscd-demo"}).elements.at(1).integer;
    }
};

TEST_F(GatewayLoopsTest, ViewersOnEveryLoopGetEveryEventFromOneReadAndOneSubscription) {
    constexpr std::size_t loops = 3;
    constexpr std::size_t viewers = 60;
    auto daemon = start_bscd();
    send_codes({"10", "20"});
    std::vector<std::string> ids = wait_history(2);
    auto gateway = start_gateway({"--threads", std::to_string(loops)});
    const long long reads_before = redis.calls_of("xrange");

    SseSwarm swarm(gateway_port(), demo_events_path, viewers);
    ASSERT_TRUE(swarm.wait_streaming()) << gateway->output();
    ASSERT_TRUE(swarm.wait_received(ids[1])) << gateway->output();

    EXPECT_EQ(metric("bscd_gateway_loops"), loops);
    double on_loops = 0;
    for (std::size_t loop = 0; loop < loops; ++loop) {
        const double here =
            metric("bscd_gateway_loop_viewers{loop=\"" + std::to_string(loop) + "\"}");
        EXPECT_GE(here, 1) << "loop " << loop << " holds no viewer";
        on_loops += here;
    }
    EXPECT_EQ(on_loops, viewers);
    EXPECT_EQ(subscribers(), 1) << "one subscription for the whole gateway";

    send_codes({"30"});
    ids = wait_history(3);
    ASSERT_TRUE(swarm.wait_received(ids[2])) << gateway->output();
    EXPECT_EQ(swarm.viewers_with_exactly(ids), viewers);
    EXPECT_EQ(swarm.malformed_events(), 0u);
    // The history once when the first viewer came, once more for code 30:
    // not once per viewer, nor per loop. Redis's own count also holds
    // bscd's reads (its history script's, and its own checks), so it only
    // shows that nothing read per viewer.
    EXPECT_EQ(metric("bscd_gateway_history_reads_total"), 2);
    EXPECT_LT(redis.calls_of("xrange") - reads_before, static_cast<long long>(viewers / 4))
        << gateway->output();
    EXPECT_GE(metric("bscd_gateway_history_reads_coalesced_total"), viewers - 1);
}

TEST_F(GatewayLoopsTest, AViewerStaysOnItsLoopUntilItsBuildEnds) {
    auto daemon = start_bscd();
    auto gateway = start_gateway({"--threads", "2"});
    SseSwarm swarm(gateway_port(), demo_events_path, 10);
    ASSERT_TRUE(swarm.wait_streaming()) << gateway->output();
    send_codes({"10", "1000"});
    const auto ids = wait_history(2);
    ASSERT_TRUE(swarm.wait_received(ids[1])) << gateway->output();
    EXPECT_EQ(swarm.viewers_with_exactly(ids), 10u);
    // Every stream ends after the final code, on whichever loop it was.
    EXPECT_TRUE(wait_until([&] { return swarm.streaming() == 0; }, 10s));
    EXPECT_TRUE(
        wait_until([&] { return metric(R"(bscd_gateway_viewers{transport="sse"})") == 0; }, 10s));
}

}  // namespace
}  // namespace bscd::test
