#include "support/browser.hpp"

namespace bscd::test {

namespace fs = std::filesystem;

namespace {

const char* const chromium_path = "/usr/bin/chromium";

}  // namespace

fs::path browser_script(const std::string& name) {
    // Not __FILE__: ccache's CCACHE_BASEDIR makes it relative.
    return fs::path(BSCD_SOURCE_DIR) / "tests" / "browser" / name;
}

::testing::AssertionResult browser_ready(const fs::path& script) {
    if (!fs::exists(script)) {
        return ::testing::AssertionFailure() << script << " is missing";
    }
    const fs::path modules = script.parent_path() / "node_modules" / "playwright-core";
    if (!fs::exists(modules)) {
        return ::testing::AssertionFailure()
               << "playwright-core is not installed: run `npm ci` in " << script.parent_path()
               << " (scripts/install-deps.sh does)";
    }
    if (!fs::exists(chromium_path)) {
        return ::testing::AssertionFailure()
               << chromium_path << " is missing: install the Debian package chromium "
               << "(scripts/install-deps.sh does)";
    }
    return ::testing::AssertionSuccess();
}

fs::path artifact_path(const std::string& name) {
    // BSCD_BIN_DIR is <build dir>/bin.
    fs::path path = fs::path(BSCD_BIN_DIR).parent_path() / "test-artifacts" / name;
    fs::create_directories(path.parent_path());
    fs::remove(path);
    return path;
}

}  // namespace bscd::test
