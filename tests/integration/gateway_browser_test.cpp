// bscd-gateway's page in a real browser: Debian's Chromium, driven by
// tests/browser/page_test.mjs (playwright-core), watches a build that the
// script reports through bsc to a real bscd, relayed by a real gateway from a
// real redis-server. The script's checks are listed at its top; this test
// starts the programs, runs it, and keeps its screenshots as artifacts.
//
// The build's profile is given a history first (seeded records, quicker than
// real builds), so that the page has a learnt estimate to show: each stage
// usually takes 4 s, but 32 usually 10 s (the page is checked while it runs)
// and 33 about 1 s (the script holds it ~2 s: with --stall-margin 0 it turns
// slower than usual, then probably stalled).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/build_record.hpp"
#include "support/browser.hpp"
#include "support/gateway_fixture.hpp"
#include "support/process.hpp"
#include "support/profile_history.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const char* const profile = "browser-test";

// The successful earlier builds of `profile`, as bscd records them: the
// stages the script sends (no 31), each with the i-th of three times around
// its usual one (the spread gives the page a range).
std::vector<std::vector<StageTime>> seeded_history() {
    const std::vector<int> codes{10, 20, 21, 30, 32, 33, 40, 50, 60, 70, 80, 81, 82, 1000};
    const auto usual_ms = [](int code) -> std::int64_t {
        switch (code) {
            case 32:
                return 10'000;
            case 33:
                return 1'000;
            default:
                return 4'000;
        }
    };
    // Percent of the usual time in each build: the hold stage's longest is 1.1 s.
    std::vector<std::vector<StageTime>> builds;
    for (const std::int64_t percent : {80, 100, 110}) {
        auto& stages = builds.emplace_back();
        for (const int code : codes) {
            stages.push_back({code, usual_ms(code) * percent / 100});
        }
    }
    return builds;
}

TEST_F(GatewayTest, PageFollowsABuildInARealBrowser) {
    const fs::path script = browser_script("page_test.mjs");
    ASSERT_TRUE(browser_ready(script));

    seed_profile(redis, profile, seeded_history());
    auto daemon = start_bscd({"--profile", profile});
    auto gateway = start_gateway({"--stall-margin", "0"});
    ASSERT_FALSE(HasFailure()) << "bscd or bscd-gateway did not start";

    // The script saves <SCREENSHOT>-failure.png when a check fails.
    const fs::path screenshot = artifact_path("gateway-page.png");
    const fs::path midbuild = artifact_path("gateway-page-midbuild.png");
    const fs::path phone = artifact_path("gateway-page-phone.png");
    artifact_path("gateway-page-failure.png");

    const RunResult result = run({"node", script.string()},
                                 {{"PAGE_URL", gateway_url("/projects/demo")},
                                  {"BSC", bin("bsc")},
                                  {"BSC_SOCKET", socket_path()},
                                  {"PROFILE", profile},
                                  {"SCREENSHOT", screenshot.string()},
                                  {"SCREENSHOT_MIDBUILD", midbuild.string()},
                                  {"SCREENSHOT_PHONE", phone.string()}},
                                 90s);

    EXPECT_EQ(result.status, 0) << "node " << script.string() << " failed (status " << result.status
                                << ", -1 is a timeout):\n"
                                << result.output << "\n--- bscd-gateway:\n"
                                << gateway->output() << "\n--- bscd:\n"
                                << daemon->output();
    for (const fs::path& path : {screenshot, midbuild, phone}) {
        EXPECT_TRUE(fs::exists(path)) << "no screenshot at " << path;
    }
    EXPECT_TRUE(gateway->running()) << "bscd-gateway died:\n" << gateway->output();
}

}  // namespace
}  // namespace bscd::test
