// Pieman's program names (component "pieman"): bscd.py, bsc.py and
// check_redis.py, called with Pieman's arguments exactly as Pieman's start and
// stop scripts do (`${PYTHON} "${PIEMAN_UTILS_DIR}"/bscd.py ...`), run our
// installed programs against a real redis-server.

#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

#include <gtest/gtest.h>

#include "installed_tree.hpp"
#include "support/free_port.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> concat(std::vector<std::string> head,
                                const std::vector<std::string>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

class PiemanNames : public ::testing::Test {
protected:
    PiemanNames() { daemons.watch(pid_file()); }

    std::string socket() const { return run_dir.file("bscd-pkg.sock"); }
    std::string pid_file() const { return run_dir.file("bscd-pkg.pid"); }
    std::string log_file() const { return run_dir.file("bscd-pkg.log"); }
    std::string port() const { return std::to_string(redis.port()); }

    // The arguments of Pieman's start script, in its order.
    std::vector<std::string> pieman_start_args() const {
        return {"--channel-name", "bscd-pkg",     "--daemonize", "--log-file-prefix",
                log_file(),       "--pid",        pid_file(),    "--redis-host",
                redis.host(),     "--redis-port", port(),        "--unix-socket-name",
                socket()};
    }

    // `python3 <prefix>/bin/SCRIPT ARGS...`, as Pieman runs them.
    RunResult python(const std::string& script, const std::vector<std::string>& args,
                     const EnvVars& env = {}) const {
        return run(concat({"python3", tree.bin(script)}, args), env);
    }
    // `<prefix>/bin/SCRIPT ARGS...`: the script as a program of its own.
    RunResult direct(const std::string& script, const std::vector<std::string>& args) const {
        return run(concat({tree.bin(script)}, args));
    }

    // The daemon that started: its pid file is there when the start command
    // returned (no polling), and it runs.
    pid_t started_daemon(const RunResult& start) {
        EXPECT_EQ(start.status, 0) << start.output;
        EXPECT_TRUE(fs::exists(pid_file())) << "no pid file when the start command returned";
        const pid_t pid = daemons.read_pid(pid_file());
        EXPECT_TRUE(alive(pid)) << "pid " << pid;
        return pid;
    }

    // After `bsc.py ... EXIT` returned: the pid file and socket are gone
    // already (Pieman's stop script polls for that), and the daemon exits.
    void expect_stopped(const RunResult& stop, pid_t pid) const {
        EXPECT_EQ(stop.status, 0) << stop.output;
        EXPECT_FALSE(fs::exists(pid_file())) << "pid file still there after EXIT was answered";
        EXPECT_FALSE(fs::exists(socket()));
        EXPECT_TRUE(wait_until([pid] { return !alive(pid); }))
            << "bscd (pid " << pid << ") still runs";
    }

    RedisServer redis;
    const InstalledTree tree{{"pieman"}};
    const TempDir run_dir;
    Daemons daemons{tree.bin("bscd")};
};

TEST_F(PiemanNames, StartSendStopAsPiemansScriptsDo) {
    Subscriber live(redis, "bscd-pkg");
    const pid_t pid = started_daemon(python("bscd.py", pieman_start_args()));
    ASSERT_TRUE(fs::exists(socket()));

    const RunResult sent = python("bsc.py", {"--unix-socket-name", socket(), "82"});
    EXPECT_EQ(sent.status, 0) << sent.output;
    EXPECT_EQ(live.next(), "82");

    expect_stopped(python("bsc.py", {"--unix-socket-name", socket(), "EXIT"}), pid);
    EXPECT_TRUE(fs::exists(log_file())) << "--log-file-prefix";
}

TEST_F(PiemanNames, ShortForms) {
    Subscriber live(redis, "bscd-pkg");
    const pid_t pid = started_daemon(
        python("bscd.py", {"-a", socket(), "-d", "-l", log_file(), "-n", "bscd-pkg", "-p",
                           pid_file(), "-H", redis.host(), "-P", port(), "-v"}));

    const RunResult sent = python("bsc.py", {"-a", socket(), "10"});
    EXPECT_EQ(sent.status, 0) << sent.output;
    EXPECT_EQ(live.next(), "10");
    // bsc.py's Redis options are accepted and have no use: it talks to bscd.
    const RunResult with_redis =
        python("bsc.py", {"-a", socket(), "-H", "192.0.2.1", "-P", "1", "20"});
    EXPECT_EQ(with_redis.status, 0) << with_redis.output;
    EXPECT_EQ(live.next(), "20");

    expect_stopped(python("bsc.py", {"-a", socket(), "EXIT"}), pid);
}

TEST_F(PiemanNames, DefaultsArePiemans) {
    // No --channel-name and no --redis-host: build_status_codes on 127.0.0.1.
    Subscriber live(redis, "build_status_codes");
    const pid_t pid =
        started_daemon(python("bscd.py", {"--daemonize", "--pid", pid_file(), "--redis-port",
                                          port(), "--unix-socket-name", socket()}));
    const RunResult sent = python("bsc.py", {"--unix-socket-name", socket(), "30"});
    EXPECT_EQ(sent.status, 0) << sent.output;
    EXPECT_EQ(live.next(), "30");
    expect_stopped(python("bsc.py", {"--unix-socket-name", socket(), "EXIT"}), pid);
}

TEST_F(PiemanNames, RunAsProgramsOfTheirOwn) {
    EXPECT_EQ(direct("check_redis.py", {"-H", redis.host(), "-P", port()}).status, 0);
    Subscriber live(redis, "bscd-pkg");
    const pid_t pid = started_daemon(direct("bscd.py", pieman_start_args()));
    const RunResult sent = direct("bsc.py", {"--unix-socket-name", socket(), "1000"});
    EXPECT_EQ(sent.status, 0) << sent.output;
    EXPECT_EQ(live.next(), "1000");
    expect_stopped(direct("bsc.py", {"--unix-socket-name", socket(), "EXIT"}), pid);
}

// Pieman's scripts call them in PIEMAN_UTILS_DIR: links to the installed ones
// find our programs where the scripts really are.
TEST_F(PiemanNames, RunThroughSymbolicLinksFromPiemansUtilsDirectory) {
    const TempDir utils;
    for (const char* name : {"bscd.py", "bsc.py", "check_redis.py"}) {
        fs::create_symlink(tree.bin(name), utils.file(name));
    }
    const RunResult checked =
        run({"python3", utils.file("check_redis.py"), "-H", redis.host(), "-P", port()});
    EXPECT_EQ(checked.status, 0) << checked.output;
    const pid_t pid =
        started_daemon(run(concat({"python3", utils.file("bscd.py")}, pieman_start_args())));
    expect_stopped(run({"python3", utils.file("bsc.py"), "--unix-socket-name", socket(), "EXIT"}),
                   pid);
}

TEST_F(PiemanNames, MissingSocketFailsWithAMessage) {
    const RunResult sent = python("bsc.py", {"-a", "/nonexistent/bscd.sock", "10"});
    EXPECT_EQ(sent.status, 1);
    EXPECT_NE(sent.output.find("/nonexistent/bscd.sock does not exist"), std::string::npos)
        << sent.output;
}

TEST_F(PiemanNames, CheckRedisTellsWhetherRedisAnswers) {
    const RunResult up = python("check_redis.py", {"-H", redis.host(), "-P", port()});
    EXPECT_EQ(up.status, 0) << up.output;
    const RunResult up_long =
        python("check_redis.py", {"--redis-host", redis.host(), "--redis-port", port()});
    EXPECT_EQ(up_long.status, 0) << up_long.output;

    const RunResult down =
        python("check_redis.py", {"-H", "127.0.0.1", "-P", std::to_string(free_port())});
    EXPECT_NE(down.status, 0) << down.output;
    EXPECT_NE(down.output, "");
}

// Pieman's programs read no environment; ours would take PROJECT_NAME (and
// refuse an invalid one), REDIS_HOST and REDIS_PORT from it.
TEST_F(PiemanNames, IgnoreTheEnvironmentAsPiemansDo) {
    const EnvVars env{{"PROJECT_NAME", "not a project/.."},
                      {"REDIS_HOST", "nonexistent.invalid"},
                      {"REDIS_PORT", "1"}};
    // What the entry points protect Pieman's scripts from:
    const RunResult ours = run(concat({tree.bin("bscd")}, pieman_start_args()), env);
    ASSERT_EQ(ours.status, 2) << ours.output;
    ASSERT_NE(ours.output.find("--project"), std::string::npos) << ours.output;
    ASSERT_FALSE(fs::exists(pid_file()));

    EXPECT_EQ(python("check_redis.py", {"-P", port()}, env).status, 0);
    Subscriber live(redis, "bscd-pkg");
    const pid_t pid = started_daemon(python("bscd.py", pieman_start_args(), env));
    const RunResult sent = python("bsc.py", {"--unix-socket-name", socket(), "50"}, env);
    EXPECT_EQ(sent.status, 0) << sent.output;
    EXPECT_EQ(live.next(), "50");
    expect_stopped(python("bsc.py", {"--unix-socket-name", socket(), "EXIT"}, env), pid);
}

TEST_F(PiemanNames, BadArgumentsAreRefusedAsPiemansAre) {
    const RunResult port_not_a_number = python("bscd.py", {"--redis-port", "six"});
    EXPECT_EQ(port_not_a_number.status, 2);
    EXPECT_NE(port_not_a_number.output.find("invalid int value"), std::string::npos)
        << port_not_a_number.output;
    const RunResult no_request = python("bsc.py", {"-a", socket()});
    EXPECT_EQ(no_request.status, 2);
    EXPECT_NE(no_request.output.find("required"), std::string::npos) << no_request.output;
    EXPECT_EQ(python("check_redis.py", {"--unknown"}).status, 2);
}

}  // namespace
}  // namespace bscd::test
