// The operator's view (GET /builds, /api/v1/builds), end to end: three
// builds at once are listed newest first with their stage, time left and
// outcome, and follow the builds live; many viewers cost one read of the
// index; thousands of builds in the index are listed without reading them
// all; and only the operator's token opens the list.

#include <algorithm>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/build_record.hpp"
#include "core/unix_ms.hpp"
#include "support/browser.hpp"
#include "support/gateway_fixture.hpp"
#include "support/http_client.hpp"
#include "support/producer_client.hpp"
#include "support/profile_history.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Two earlier successful builds of the profile "p": 10, 20 (`stage_20_ms`)
// and 1000, so that the builds listed have a time left.
void seed_profile(RedisServer& redis, std::int64_t stage_20_ms = 1'000) {
    const std::vector<StageTime> stages{{10, 1'000}, {20, stage_20_ms}, {1000, 1'000}};
    test::seed_profile(redis, "p", {stages, stages});
}

class GatewayBuildsTest : public GatewayTest {
protected:
    // GET /api/v1/builds (with `query`), parsed; fails the test unless 200.
    json list(const std::string& query = {}) {
        const auto response = http_get(gateway_port(), "/api/v1/builds" + query);
        EXPECT_EQ(response.status, 200) << response.body;
        return response.status == 200 ? json::parse(response.body) : json::object();
    }

    // Polls the list until `holds` is true of it; the last list otherwise.
    json list_until(const std::function<bool(const json&)>& holds, const std::string& query = {}) {
        json last;
        (void)wait_until(
            [&] {
                last = list(query);
                if (holds(last)) {
                    return true;
                }
                std::this_thread::sleep_for(50ms);  // the poll's pace, not a wait for an event
                return false;
            },
            15s);
        return last;
    }

    long long index_reads() { return redis.calls_of("zrevrange"); }
};

const json* find_build(const json& list, const std::string& project) {
    if (!list.contains("builds")) {
        return nullptr;
    }
    for (const auto& build : list["builds"]) {
        if (build["project"] == project) {
            return &build;
        }
    }
    return nullptr;
}

// The state a listed build is in, or "" when it is not listed.
std::string state_of(const json& list, const std::string& project) {
    const json* build = find_build(list, project);
    return build == nullptr ? std::string() : build->value("state", std::string());
}

TEST_F(GatewayBuildsTest, ThreeBuildsAtOnceAreListedLiveNewestFirst) {
    seed_profile(redis);
    auto gateway = start_gateway();
    auto alpha = start_bscd({"--profile", "p"}, "alpha");
    auto beta = start_bscd({"--profile", "p"}, "beta");
    auto gamma = start_bscd({"--profile", "p"}, "gamma");
    ASSERT_EQ(exchange(socket_path("alpha"), "10\n20\n"), "OK\nOK\n");
    ASSERT_EQ(exchange(socket_path("beta"), "10\n"), "OK\n");
    ASSERT_EQ(exchange(socket_path("gamma"), "10\n1001\n"), "OK\nOK\n");

    json now = list_until([](const json& l) {
        return state_of(l, "alpha") == "running" && state_of(l, "beta") == "running" &&
               state_of(l, "gamma") == "failed";
    });
    ASSERT_EQ(now["builds"].size(), 3U) << now.dump();
    EXPECT_EQ(now["running"], 2) << now.dump();
    // Newest first: they started in this order.
    EXPECT_EQ(now["builds"][0]["project"], "gamma");
    EXPECT_EQ(now["builds"][1]["project"], "beta");
    EXPECT_EQ(now["builds"][2]["project"], "alpha");

    const json& alpha_row = *find_build(now, "alpha");
    EXPECT_EQ(alpha_row["profile"], "p");
    EXPECT_EQ(alpha_row["code"], 20);
    EXPECT_EQ(alpha_row["page"], "/projects/alpha");
    EXPECT_TRUE(alpha_row.contains("build_started")) << alpha_row.dump();
    EXPECT_EQ(alpha_row["estimate"]["basis"], "learnt") << alpha_row.dump();
    // 1000 is left, usually a second: never more than that, never below 0.
    const std::int64_t left = alpha_row["estimate"]["left"]["ms"];
    EXPECT_GE(left, 0);
    EXPECT_LE(left, 1'000);
    const json& gamma_row = *find_build(now, "gamma");
    EXPECT_EQ(gamma_row["code"], 1001);
    EXPECT_GE(gamma_row["took_ms"].get<std::int64_t>(), 0) << gamma_row.dump();

    // Live: a code, then an end, show in the list without anything else.
    ASSERT_EQ(exchange(socket_path("alpha"), "1000\n"), "OK\n");
    ASSERT_EQ(exchange(socket_path("beta"), "20\n"), "OK\n");
    now = list_until([](const json& l) {
        const json* beta_row = find_build(l, "beta");
        return state_of(l, "alpha") == "succeeded" && beta_row != nullptr &&
               beta_row->value("code", 0) == 20;
    });
    EXPECT_EQ(state_of(now, "alpha"), "succeeded") << now.dump();
    EXPECT_EQ(now["running"], 1) << now.dump();

    // The page itself and its script are served, under the page's policy.
    const auto page = http_get(gateway_port(), "/builds");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("assets/builds.js"), std::string::npos);
    EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
    EXPECT_EQ(http_get(gateway_port(), "/assets/builds.js").status, 200);
}

TEST_F(GatewayBuildsTest, ManyViewersCostOneReadOfTheIndex) {
    auto gateway = start_gateway();
    auto daemon = start_bscd({"--profile", "p"});
    ASSERT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    (void)list_until([](const json& l) { return state_of(l, "demo") == "running"; });

    // Twenty viewers at once, then twenty more: the gateway answers them from
    // one read of the index each time, not one per viewer.
    const long long before = index_reads();
    for (int round = 0; round < 2; ++round) {
        std::vector<std::future<int>> viewers;
        viewers.reserve(20);
        for (int i = 0; i < 20; ++i) {
            viewers.push_back(std::async(std::launch::async, [this] {
                return http_get(gateway_port(), "/api/v1/builds").status;
            }));
        }
        for (auto& viewer : viewers) {
            EXPECT_EQ(viewer.get(), 200);
        }
    }
    // Forty requests within at most a few refresh intervals (2 s each).
    EXPECT_LE(index_reads() - before, 3);
}

TEST_F(GatewayBuildsTest, ThousandsOfBuildsInTheIndexListOnlyTheNewest) {
    // 3,000 builds of the past days whose histories have expired, and one
    // that runs now.
    std::vector<std::string> zadd{"ZADD", "bscd-builds"};
    const std::int64_t now_ms = unix_ms_now();
    for (int i = 0; i < 3'000; ++i) {
        zadd.push_back(std::to_string(now_ms - 3'600'000 - std::int64_t{i} * 60'000));
        zadd.push_back("old-" + std::to_string(i));
    }
    ASSERT_EQ(redis.command(zadd).integer, 3'000);
    auto gateway = start_gateway();
    auto daemon = start_bscd({}, "current");
    ASSERT_EQ(exchange(socket_path("current"), "10\n"), "OK\n");

    const json now = list_until([](const json& l) {
        return state_of(l, "current") == "running" && state_of(l, "old-98") == "expired";
    });
    ASSERT_EQ(now["builds"].size(), 100U);
    EXPECT_EQ(now["builds"][0]["project"], "current");
    EXPECT_EQ(now["builds"][99]["project"], "old-98");
    EXPECT_EQ(now["running"], 1) << now.dump();
}

TEST_F(GatewayBuildsTest, OnlyTheOperatorsTokenOpensTheList) {
    auto gateway = start_gateway({"--token-secret", test_token_secret});
    auto daemon = start_bscd();
    ASSERT_EQ(exchange(socket_path(), "10\n"), "OK\n");

    auto print =
        run({bin("bscd-gateway"), "--token-secret", test_token_secret, "--print-operator-token"});
    ASSERT_EQ(print.status, 0) << print.output;
    const std::string operator_token = print.output.substr(0, print.output.find('\n'));
    ASSERT_EQ(operator_token.size(), 64U) << print.output;
    print =
        run({bin("bscd-gateway"), "--token-secret", test_token_secret, "--print-token", "demo"});
    ASSERT_EQ(print.status, 0) << print.output;
    const std::string project_token = print.output.substr(0, print.output.find('\n'));
    ASSERT_NE(project_token, operator_token);

    for (const std::string path : {"/api/v1/builds", "/builds"}) {
        const std::string with_token = path + "?token=";
        EXPECT_EQ(http_get(gateway_port(), path).status, 403) << path;
        EXPECT_EQ(http_get(gateway_port(), with_token + project_token).status, 403)
            << path << ": a project's token must not open the list";
        EXPECT_EQ(http_get(gateway_port(), with_token + operator_token).status, 200) << path;
        EXPECT_EQ(
            http_get(gateway_port(), path, {{"Authorization", "Bearer " + operator_token}}).status,
            200)
            << path;
    }
    // Nor does the operator's token open a project: the list's links carry
    // each project's own token.
    EXPECT_EQ(http_get(gateway_port(), "/api/v1/projects/demo?token=" + operator_token).status,
              403);
    const json now = list_until([](const json& l) { return state_of(l, "demo") == "running"; },
                                "?token=" + operator_token);
    const std::string link = find_build(now, "demo")->value("page", std::string());
    EXPECT_EQ(link, "/projects/demo?token=" + project_token);
    EXPECT_EQ(http_get(gateway_port(), link).status, 200);

    // --print-operator-token needs a secret: a usage error otherwise.
    EXPECT_EQ(run({bin("bscd-gateway"), "--print-operator-token"}).status, 2);
}

// The page in a real browser: the builds listed, live, counting down, and
// legible on a phone (tests/browser/builds_page_test.mjs has the checks).
TEST_F(GatewayBuildsTest, ThePageShowsTheBuildsLiveInARealBrowser) {
    const auto script = browser_script("builds_page_test.mjs");
    ASSERT_TRUE(browser_ready(script));
    seed_profile(redis, 60'000);  // stage 20 usually a minute: a time left that counts down
    auto gateway = start_gateway({"--token-secret", test_token_secret});
    auto ended = start_bscd({"--profile", "p"}, "ended");
    ASSERT_EQ(exchange(socket_path("ended"), "10\n20\n1000\n"), "OK\nOK\nOK\n");
    auto running = start_bscd({"--profile", "p"}, "running");
    ASSERT_EQ(exchange(socket_path("running"), "10\n"), "OK\n");
    const auto token =
        run({bin("bscd-gateway"), "--token-secret", test_token_secret, "--print-operator-token"});
    ASSERT_EQ(token.status, 0) << token.output;

    const auto screenshot = artifact_path("builds-page.png");
    const RunResult result =
        run({"node", script.string()},
            {{"PAGE_URL", gateway_url("/builds?token=" + token.output.substr(0, 64))},
             {"BSC", bin("bsc")},
             {"BSC_SOCKET", socket_path("running")},
             {"SCREENSHOT", screenshot.string()}},
            90s);
    EXPECT_EQ(result.status, 0) << result.output << "\n--- bscd-gateway:\n" << gateway->output();
    EXPECT_TRUE(std::filesystem::exists(screenshot)) << "no screenshot at " << screenshot;
}

}  // namespace
}  // namespace bscd::test
