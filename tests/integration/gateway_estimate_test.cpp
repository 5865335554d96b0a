// Estimates through the gateway, end to end: five builds of one profile run
// with paced, known stage times (bscd stamps each code as it comes); the
// sixth build's viewers get the plan and a time left within a stated
// tolerance of the truth at each stage, and a stage that hangs is flagged
// slower than usual, then probably stalled.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/unix_ms.hpp"
#include "support/gateway_fixture.hpp"
#include "support/http_client.hpp"
#include "support/producer_client.hpp"
#include "support/profile_history.hpp"
#include "support/sse_client.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace bscd::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// The paced build: each code is sent this long after the previous one (the
// first after bscd's start). Stage 21 is the one the sixth build hangs in.
struct Stage {
    std::string code;
    std::int64_t ms;
};
const std::vector<Stage> paced{{"10", 300}, {"20", 600}, {"21", 200}, {"1000", 100}};

// How close the time left must come to the truth: the pacing's own jitter
// (a loaded machine, sanitizers) plus a share of what is left.
bool close_enough(std::int64_t estimate, std::int64_t truth) {
    return std::llabs(estimate - truth) <= 250 + truth / 5;
}

class GatewayEstimateTest : public GatewayTest {
protected:
    // Runs one paced build of `project` with the profile "paced"; each code
    // goes `ms` after the one before it (polled against the clock: the
    // producer is paced, nothing waits on a sleep for an outcome).
    void run_build(const std::string& project, std::size_t stages = paced.size()) {
        auto daemon = start_bscd({"--profile", "paced"}, project);
        std::int64_t last = unix_ms_now();
        for (std::size_t i = 0; i < stages; ++i) {
            const std::int64_t due = last + paced[i].ms;
            ASSERT_TRUE(wait_until([&] { return unix_ms_now() >= due; }, 10s));
            ASSERT_EQ(exchange(socket_path(project), paced[i].code + "\n"), "OK\n");
            last = unix_ms_now();
            if (project == "sixth") {
                after_code(paced[i].code, i);
            }
        }
        if (stages == paced.size()) {
            ASSERT_EQ(exchange(socket_path(project), "EXIT\n"), "OK\n");
            EXPECT_EQ(daemon->wait(), 0) << daemon->output();
        } else {
            sixth_ = std::move(daemon);
        }
    }

    // The estimate that follows `code`: the first one whose plan has it done.
    json estimate_after(const std::string& code) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto event = viewer_->next_estimate(1s);
            if (!event) {
                continue;
            }
            json message = json::parse(event->data);
            if (message["estimate"]["builds"] != 5) {
                continue;  // the profile not read yet: an estimate before it was learnt
            }
            for (const auto& stage : message["plan"]) {
                if (std::to_string(stage["code"].get<int>()) == code && stage["state"] == "done") {
                    return message;
                }
            }
        }
        ADD_FAILURE() << "no estimate after code " << code;
        return {};
    }

    // In the sixth build, right after stage `index`'s code: the time left
    // against the truth (the paced stages still to come).
    void after_code(const std::string& code, std::size_t index) {
        const json message = estimate_after(code);
        ASSERT_TRUE(message.contains("estimate")) << message.dump();
        pace_after_code_ = message["estimate"].value("pace", "");
        std::int64_t truth = 0;
        for (std::size_t i = index + 1; i < paced.size(); ++i) {
            truth += paced[i].ms;
        }
        const json& estimate = message["estimate"];
        EXPECT_EQ(estimate["basis"], "learnt") << message.dump();
        EXPECT_EQ(estimate["builds"], 5) << message.dump();
        ASSERT_TRUE(estimate.contains("left")) << message.dump();
        const std::int64_t left = estimate["left"]["ms"];
        EXPECT_TRUE(close_enough(left, truth))
            << "after " << code << ": " << left << " ms left estimated, " << truth << " true";
        EXPECT_LE(estimate["left_low"]["ms"].get<std::int64_t>(), left);
        EXPECT_GE(estimate["left_high"]["ms"].get<std::int64_t>(), left);
        EXPECT_EQ(message["profile"], "paced");
    }

    std::unique_ptr<SseClient> viewer_;
    std::unique_ptr<Process> sixth_;
    // The pace told with the estimate after_code() read last: on a loaded
    // machine the event that says code 20 is done may already say "slower".
    std::string pace_after_code_;
};

TEST_F(GatewayEstimateTest, TheSixthBuildIsToldItsTimeLeftAndAStallIsFlagged) {
    auto gateway = start_gateway({"--stall-margin", "1"});
    for (const std::string project : {"first", "second", "third", "fourth", "fifth"}) {
        run_build(project);
    }
    // The sixth build: its viewer connects before bscd starts, as a page
    // opened early does.
    viewer_ = std::make_unique<SseClient>(gateway_port(), "/api/v1/projects/sixth/events");
    ASSERT_EQ(viewer_->status(), 200);
    run_build("sixth", 2);  // 10 and 20 come; 21 never does
    ASSERT_FALSE(HasFailure());

    // The plan: what is done, what runs now, what is to come with its usual time.
    const auto state = http_get(gateway_port(), "/api/v1/projects/sixth");
    ASSERT_EQ(state.status, 200) << state.body;
    const json now = json::parse(state.body);
    ASSERT_EQ(now["plan"].size(), 4U) << state.body;
    EXPECT_EQ(now["plan"][0]["state"], "done");
    EXPECT_EQ(now["plan"][1]["state"], "done");
    EXPECT_EQ(now["plan"][2]["code"], 21);
    EXPECT_EQ(now["plan"][2]["state"], "current");
    EXPECT_EQ(now["plan"][3]["code"], 1000);
    EXPECT_EQ(now["plan"][3]["state"], "upcoming");
    EXPECT_TRUE(close_enough(now["plan"][3]["usual_ms"].get<std::int64_t>(), 100)) << state.body;
    // From bscd's start: at least the paced 0.3 s, and bscd's own start-up.
    EXPECT_GE(now["plan"][0]["took_ms"].get<std::int64_t>(), 300) << state.body;
    EXPECT_LT(now["plan"][0]["took_ms"].get<std::int64_t>(), 5'000) << state.body;

    // Stage 21 usually takes 0.2 s; here it hangs: slower than usual, then
    // (twice its longest, and a second past it) probably stalled, each
    // told without a new code.
    std::vector<std::string> paces{pace_after_code_};
    const bool stalled = wait_until(
        [&] {
            if (const auto event = viewer_->next_estimate(200ms)) {
                paces.push_back(json::parse(event->data)["estimate"]["pace"]);
            }
            return !paces.empty() && paces.back() == "stalled";
        },
        10s);
    EXPECT_TRUE(stalled) << testing::PrintToString(paces);
    EXPECT_NE(std::find(paces.begin(), paces.end(), "slower"), paces.end())
        << testing::PrintToString(paces);
    EXPECT_LE(paces.size(), 6U) << "ticks only at thresholds: " << testing::PrintToString(paces);
    const json later = json::parse(http_get(gateway_port(), "/api/v1/projects/sixth").body);
    EXPECT_EQ(later["estimate"]["pace"], "stalled");
}

TEST_F(GatewayEstimateTest, TheFirstBuildOfAKindHasAPlanButNoTimeLeft) {
    auto gateway = start_gateway();
    auto daemon = start_bscd({"--profile", "new"});
    send_codes({"10"});
    wait_history(1);
    const auto state = http_get(gateway_port(), "/api/v1/projects/demo");
    ASSERT_EQ(state.status, 200) << state.body;
    const json now = json::parse(state.body);
    EXPECT_EQ(now["profile"], "new");
    EXPECT_EQ(now["estimate"]["basis"], "learning");
    EXPECT_EQ(now["estimate"]["builds"], 0);
    EXPECT_FALSE(now["estimate"].contains("left"));
    EXPECT_EQ(now["plan"][0]["code"], 10);
    EXPECT_EQ(now["plan"][0]["state"], "done");
    EXPECT_TRUE(now["plan"][0].contains("took_ms"));  // the first stage has a time too
    EXPECT_EQ(now["plan"][1]["state"], "current");
    EXPECT_GT(now["plan"].size(), 10U);  // the catalog's stages

    // A WebSocket viewer gets the codes, and the estimate as a message of its own.
    WsClient ws(gateway_port(), demo_ws_path);
    const auto code = ws.next_text();
    ASSERT_TRUE(code);
    EXPECT_EQ(json::parse(*code)["code"], 10);
    const auto estimate = ws.next_estimate();
    ASSERT_TRUE(estimate);
    EXPECT_EQ(json::parse(*estimate)["estimate"]["basis"], "learning");
}

// A viewer that comes while a stage runs is told the estimate as of now
// (how long the stage has run), and the first viewer of a project is never
// told "first build of this kind" while the gateway is still reading the
// profile.
TEST_F(GatewayEstimateTest, AViewerJoiningMidStageIsToldTheEstimateAsOfNow) {
    const std::vector<StageTime> stages{{10, 1'000}, {20, 60'000}, {1000, 1'000}};
    seed_profile(redis, "p", {stages, stages});
    auto gateway = start_gateway();
    auto daemon = start_bscd({"--profile", "p"});
    send_codes({"10"});
    const std::int64_t code_ms = unix_ms_now();

    SseClient first(gateway_port(), demo_events_path);
    const auto told = first.next_estimate();
    ASSERT_TRUE(told);
    const json first_estimate = json::parse(told->data)["estimate"];
    EXPECT_EQ(first_estimate["basis"], "learnt") << told->data;
    EXPECT_EQ(first_estimate["builds"], 2) << told->data;

    // Stage 20 usually runs a minute: nothing changes for the viewers for
    // a while. One comes 2.5 s into it.
    ASSERT_TRUE(wait_until([&] { return unix_ms_now() >= code_ms + 2'500; }, 10s));
    SseClient later(gateway_port(), demo_events_path);
    const auto late = later.next_estimate();
    ASSERT_TRUE(late);
    const json estimate = json::parse(late->data)["estimate"];
    // As of its coming, give or take the second a message is shared for.
    EXPECT_GE(estimate["stage_elapsed_ms"].get<std::int64_t>(), 1'400) << late->data;
    EXPECT_LE(estimate["left"]["counting_ms"].get<std::int64_t>(), 58'600) << late->data;
}

}  // namespace
}  // namespace bscd::test
