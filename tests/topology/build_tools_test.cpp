// What a builder runs, against a real Sentinel group and a real Cluster, with
// the topology given only through the environment: the shell library
// (share/bscd/bsc.sh) in a bash build under `set -euo pipefail`, and a build
// with Pieman's program names (share/pieman/*.py, run by python3 as Pieman
// runs them, with Pieman's -H/-P that the scripts drop). Every code reaches
// the history on the master that serves it, in order.

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/history_codes.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/topologies.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Pieman's codes, by the names a builder sends them by.
const std::vector<std::pair<std::string, std::string>> build_codes{
    {"PREPARED_CHROOT_ENV_CODE", "10"}, {"SET_UP_LOCALE_CODE", "20"},
    {"SET_UP_TIMEZONE_CODE", "21"},     {"UPDATED_CODE", "30"},
    {"INSTALLED_PACKAGES_CODE", "31"},  {"UPGRADED_CODE", "32"}};

template <class Topology>
class BuildToolsTest : public ::testing::Test {
protected:
    // A daemonized bscd is not the test's child: kill any left behind.
    ~BuildToolsTest() override {
        for (const char* pid_file : {"bscd-shell.pid", "bscd-pieman.pid"}) {
            long pid = 0;
            if (std::ifstream(dir.file(pid_file)) >> pid && pid > 0) {
                ::kill(static_cast<pid_t>(pid), SIGKILL);
            }
        }
    }

    // The environment a builder has: the topology, and Pieman's own
    // REDIS_HOST/REDIS_PORT pointing nowhere, which must not matter.
    EnvVars builder_environment() const {
        EnvVars env = topology.environment();
        env.insert(env.end(), {{"REDIS_HOST", "192.0.2.1"}, {"REDIS_PORT", "6390"}});
        return env;
    }

    std::vector<std::string> history_of(const std::string& channel) {
        return history_codes(topology.master_of(channel + ":events"), channel);
    }

    static std::vector<std::string> values() {
        std::vector<std::string> codes;
        codes.reserve(build_codes.size());
        for (const auto& code : build_codes) {
            codes.push_back(code.second);
        }
        return codes;
    }

    Topology topology;
    TempDir dir;
};

TYPED_TEST_SUITE(BuildToolsTest, Topologies, TopologyName);

TYPED_TEST(BuildToolsTest, TheShellLibraryReportsABuild) {
    std::string script =
        "set -euo pipefail\n"
        "trap 'echo ERR trap: $BASH_COMMAND; exit 99' ERR\n"
        ". " BSCD_SOURCE_DIR
        "/share/bscd/bsc.sh\n"
        "check_redis\nstart_bscd\n";
    for (const auto& code : build_codes) {
        script += "send_request_to_bsc_server " + code.first + "\n";
    }
    script += "stop_bscd\necho BUILD-FINISHED\n";
    EnvVars env = this->builder_environment();
    env.insert(env.end(), {{"BSCD_BIN_DIR", bin_dir()},
                           {"BSCD_RUNTIME_DIR", this->dir.path()},
                           {"PROJECT_NAME", "shell"},
                           {"ENABLE_BSC_CHANNEL", "true"}});
    const RunResult result = run({"bash", "-c", script}, env, 60s);

    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("BUILD-FINISHED"), std::string::npos) << result.output;
    EXPECT_EQ(result.output.find("warning"), std::string::npos) << result.output;
    EXPECT_EQ(this->history_of("bscd-shell"), this->values()) << result.output;
}

TYPED_TEST(BuildToolsTest, PiemansProgramNamesReportABuild) {
    // Pieman's utils directory: the scripts, with our programs beside them.
    const std::string utils = this->dir.file("utils");
    fs::create_directory(utils);
    for (const char* script : {"bscd.py", "bsc.py", "check_redis.py"}) {
        fs::copy_file(fs::path(BSCD_SOURCE_DIR) / "share/pieman" / script, utils + "/" + script);
    }
    for (const char* program : {"bscd", "bsc"}) {
        fs::create_symlink(bin(program), utils + "/" + program);
    }
    const EnvVars env = this->builder_environment();
    const auto python = [&](const std::string& script, std::vector<std::string> args) {
        args.insert(args.begin(), {"python3", utils + "/" + script});
        return run(args, env, 30s);
    };
    const std::string socket = this->dir.file("bscd-pieman.sock");
    const std::vector<std::string> redis{"-H", "127.0.0.1", "-P", "6379"};  // Pieman's defaults

    const RunResult checked = python("check_redis.py", redis);
    EXPECT_EQ(checked.status, 0) << checked.output;
    std::vector<std::string> start{
        "-a", socket, "-d", "-n", "bscd-pieman", "-p", this->dir.file("bscd-pieman.pid")};
    start.insert(start.end(), redis.begin(), redis.end());
    const RunResult started = python("bscd.py", start);
    ASSERT_EQ(started.status, 0) << started.output;
    for (const auto& code : build_codes) {
        const RunResult sent = python("bsc.py", {"-a", socket, code.second});
        EXPECT_EQ(sent.status, 0) << code.second << ": " << sent.output;
    }
    const RunResult stopped = python("bsc.py", {"-a", socket, "EXIT"});
    EXPECT_EQ(stopped.status, 0) << stopped.output;

    EXPECT_EQ(this->history_of("bscd-pieman"), this->values());
}

}  // namespace
}  // namespace bscd::test
