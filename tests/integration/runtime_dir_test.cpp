// One runtime directory for every program: --runtime-dir, else
// $BSCD_RUNTIME_DIR, names where bscd serves and where bsc --project looks
// (issue 15, 7b). Real bscd, real bsc, real redis-server.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/bscd_fixture.hpp"
#include "support/serving_programs.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

class RuntimeDirTest : public BscdTest {
protected:
    // Elsewhere: a directory the defaults never name, and no project from
    // the builder's environment.
    EnvVars without_defaults(EnvVars extra = {}) const {
        extra.insert(extra.end(), {{"XDG_RUNTIME_DIR", elsewhere.path()},
                                   {"BSCD_RUNTIME_DIR", ""},
                                   {"PROJECT_NAME", ""}});
        return extra;
    }

    TempDir elsewhere;
};

TEST_F(RuntimeDirTest, BscGivenTheOptionReachesTheDaemonStartedWithIt) {
    const auto daemon = start_bscd();  // --runtime-dir dir
    const RunResult sent =
        run({bin("bsc"), "send", "--project", "demo", "--runtime-dir", dir.path(), "10", "21"},
            without_defaults());
    EXPECT_EQ(sent.status, 0) << sent.output;
    const RunResult legacy = run(
        {bin("bsc"), "--project", "demo", "--runtime-dir", dir.path(), "30"}, without_defaults());
    EXPECT_EQ(legacy.status, 0) << legacy.output;
    EXPECT_TRUE(wait_until([&] { return history().size() == 3; })) << daemon->output();
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "21", "30"}));
}

TEST_F(RuntimeDirTest, BscReadsTheVariableWhenNotGivenTheOption) {
    const auto daemon = start_bscd();
    const RunResult sent = run({bin("bsc"), "--project", "demo", "10"},
                               without_defaults({{"BSCD_RUNTIME_DIR", dir.path()}}));
    EXPECT_EQ(sent.status, 0) << sent.output;
    EXPECT_TRUE(wait_until([&] { return history().size() == 1; })) << daemon->output();
    EXPECT_EQ(history(), std::vector<std::string>{"10"});
}

TEST_F(RuntimeDirTest, TheOptionOverridesTheVariable) {
    const auto daemon = start_bscd();
    const RunResult sent =
        run({bin("bsc"), "send", "--project", "demo", "--runtime-dir", dir.path(), "10"},
            without_defaults({{"BSCD_RUNTIME_DIR", elsewhere.path()}}));
    EXPECT_EQ(sent.status, 0) << sent.output;

    const RunResult missing =
        run({bin("bsc"), "send", "--project", "demo", "--runtime-dir", elsewhere.path(), "20"},
            without_defaults({{"BSCD_RUNTIME_DIR", dir.path()}}));
    EXPECT_EQ(missing.status, 1);
    EXPECT_EQ(missing.output, "bsc: " + elsewhere.file("bscd-demo.sock") + " does not exist\n");
    EXPECT_TRUE(wait_until([&] { return history().size() == 1; })) << daemon->output();
    EXPECT_EQ(history(), std::vector<std::string>{"10"});
}

TEST_F(RuntimeDirTest, BscdReadsTheVariableForItsSocketAndPidFile) {
    std::vector<std::string> args{
        bin("bscd"), "--project", "demo", "-H", redis.host(), "-P", std::to_string(redis.port())};
    Process daemon(args, without_defaults({{"BSCD_RUNTIME_DIR", dir.path()}}));
    EXPECT_TRUE(
        wait_until([&] { return holds_own_pid(daemon, pid_file()); }, std::chrono::seconds(15)))
        << daemon.output();
    const RunResult sent = run({bin("bsc"), "--project", "demo", "10"},
                               without_defaults({{"BSCD_RUNTIME_DIR", dir.path()}}));
    EXPECT_EQ(sent.status, 0) << sent.output;
    EXPECT_TRUE(wait_until([&] { return history().size() == 1; })) << daemon.output();
    EXPECT_EQ(history(), std::vector<std::string>{"10"});
}

TEST_F(RuntimeDirTest, ASocketAndARuntimeDirectoryAreAUsageError) {
    const RunResult result =
        run({bin("bsc"), "send", "-a", socket_path(), "--runtime-dir", dir.path(), "10"},
            without_defaults());
    EXPECT_EQ(result.status, 2) << result.output;
}

}  // namespace
}  // namespace bscd::test
