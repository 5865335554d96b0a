// bscd-gateway's page in a real browser: Debian's Chromium, driven by
// tests/browser/page_test.mjs (playwright-core), watches a build that the
// script reports through bsc to a real bscd, relayed by a real gateway from a
// real redis-server. The script's checks are listed at its top; this test
// starts the programs, runs it, and keeps its screenshot as an artifact.

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/gateway_fixture.hpp"
#include "support/process.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// tests/browser, beside this file's directory in the source tree.
fs::path browser_test_dir() {
    return fs::path(__FILE__).parent_path().parent_path() / "browser";
}

// <build dir>/test-artifacts/gateway-page.png: BSCD_BIN_DIR is <build dir>/bin.
fs::path screenshot_path() {
    return fs::path(BSCD_BIN_DIR).parent_path() / "test-artifacts" / "gateway-page.png";
}

const char* const chromium_path = "/usr/bin/chromium";

TEST_F(GatewayTest, PageFollowsABuildInARealBrowser) {
    const fs::path browser_dir = browser_test_dir();
    const fs::path script = browser_dir / "page_test.mjs";
    ASSERT_TRUE(fs::exists(script)) << script << " is missing";
    ASSERT_TRUE(fs::exists(browser_dir / "node_modules" / "playwright-core"))
        << "playwright-core is not installed: run `npm ci` in " << browser_dir
        << " (scripts/install-deps.sh does)";
    ASSERT_TRUE(fs::exists(chromium_path))
        << chromium_path << " is missing: install the Debian package chromium "
        << "(scripts/install-deps.sh does)";

    auto daemon = start_bscd();
    auto gateway = start_gateway();
    ASSERT_FALSE(HasFailure()) << "bscd or bscd-gateway did not start";

    const fs::path screenshot = screenshot_path();
    fs::create_directories(screenshot.parent_path());
    fs::remove(screenshot);
    fs::remove(fs::path(screenshot).replace_extension().concat("-failure.png"));

    const RunResult result = run({"node", script.string()},
                                 {{"PAGE_URL", gateway_url("/projects/demo")},
                                  {"BSC", bin("bsc")},
                                  {"BSC_SOCKET", socket_path()},
                                  {"SCREENSHOT", screenshot.string()}},
                                 90s);

    EXPECT_EQ(result.status, 0) << "node " << script.string() << " failed (status " << result.status
                                << ", -1 is a timeout):\n"
                                << result.output << "\n--- bscd-gateway:\n"
                                << gateway->output() << "\n--- bscd:\n"
                                << daemon->output();
    EXPECT_TRUE(fs::exists(screenshot)) << "no screenshot at " << screenshot;
    EXPECT_TRUE(gateway->running()) << "bscd-gateway died:\n" << gateway->output();
}

}  // namespace
}  // namespace bscd::test
