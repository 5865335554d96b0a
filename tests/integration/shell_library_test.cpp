// share/bscd/bsc.sh, Pieman's four functions, sourced by real bash scripts
// under `set -euo pipefail` with an ERR trap, against a real Redis and the
// real bscd it starts. Pieman's rule is checked everywhere: trouble with
// Redis or bscd never fails the build.

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "core/project.hpp"
#include "support/bscd_fixture.hpp"
#include "support/free_port.hpp"
#include "support/subscriber.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;

class ShellLibraryTest : public BscdTest {
protected:
    // A daemonized bscd is not the test's child: kill any left behind.
    ~ShellLibraryTest() override {
        if (const auto pid = daemon_pid()) {
            ::kill(*pid, SIGKILL);
        }
    }

    // Runs `body` after the prologue of a builder: strict mode, an ERR trap
    // that would make any failure visible, the library, the settings.
    RunResult build(const std::string& body, EnvVars env = {}) {
        const std::string script =
            "set -euo pipefail\n"
            "trap 'echo ERR trap: $BASH_COMMAND; exit 99' ERR\n"
            ". " BSCD_SOURCE_DIR "/share/bscd/bsc.sh\n" +
            body + "\necho BUILD-FINISHED\n";
        env.insert(env.begin(), {{"BSCD_BIN_DIR", bin_dir()},
                                 {"BSCD_RUNTIME_DIR", dir.path()},
                                 {"PROJECT_NAME", "demo"},
                                 {"REDIS_HOST", redis.host()},
                                 {"REDIS_PORT", std::to_string(redis.port())}});
        return run({"bash", "-c", script}, env, std::chrono::seconds(30));
    }

    std::optional<pid_t> daemon_pid() const {
        std::ifstream in(pid_file());
        long pid = 0;
        if (in >> pid && pid > 0) {
            return static_cast<pid_t>(pid);
        }
        return std::nullopt;
    }

    static bool alive(pid_t pid) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string pid_field;
        std::string comm;
        std::string state;
        return static_cast<bool>(stat >> pid_field >> comm >> state) && state != "Z";
    }

    static void expect_finished(const RunResult& result) {
        EXPECT_EQ(result.status, 0) << result.output;
        EXPECT_NE(result.output.find("BUILD-FINISHED"), std::string::npos) << result.output;
        EXPECT_EQ(result.output.find("ERR trap"), std::string::npos) << result.output;
    }

    // A directory for BSCD_BIN_DIR with a stand-in bsc and bscd, each
    // recording in NAME.recorded its arguments ("arg X" lines) and the Redis
    // variables of its environment ("env NAME=VALUE").
    std::string fake_programs() const {
        std::string bin_dir = dir.file("fake-bin");
        fs::create_directory(bin_dir);
        for (const char* program : {"bsc", "bscd"}) {
            const std::string path = bin_dir + "/" + program;
            std::ofstream(path) << "#!/bin/sh\n"
                                   "{\n"
                                   "  for arg in \"$@\"; do printf 'arg %s\\n' \"$arg\"; done\n"
                                   "  env | grep '^REDIS_' | sed 's/^/env /'\n"
                                   "} > \"$0.recorded\"\n";
            fs::permissions(path, fs::perms::owner_all);
        }
        return bin_dir;
    }

    // What fake `program` in `bin_dir` recorded, line by line.
    static std::vector<std::string> recorded(const std::string& bin_dir,
                                             const std::string& program) {
        std::ifstream in(bin_dir + "/" + program + ".recorded");
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);) {
            lines.push_back(line);
        }
        return lines;
    }

    static std::vector<std::string> args_of(const std::vector<std::string>& recorded) {
        std::vector<std::string> args;
        for (const auto& line : recorded) {
            if (line.starts_with("arg ")) {
                args.push_back(line.substr(4));
            }
        }
        return args;
    }

    static std::string env_of(const std::vector<std::string>& recorded, const std::string& name) {
        for (const auto& line : recorded) {
            if (line.starts_with("env " + name + "=")) {
                return line.substr(5 + name.size());
            }
        }
        return "unset";
    }

    const EnvVars enabled{{"ENABLE_BSC_CHANNEL", "true"}};
};

TEST_F(ShellLibraryTest, ReportsEveryRequestFormAndStopsTheDaemonItStarted) {
    Subscriber channel(redis, "bscd-demo");
    const auto result = build(R"(
check_redis
start_bscd
test -f "$BSCD_RUNTIME_DIR/bscd-demo.pid" && echo "PID-FILE-AFTER-START"
SYNCED_CODE=82                                   # Pieman defines its codes as variables
send_request_to_bsc_server PREPARED_CHROOT_ENV_CODE   # a catalog name, resolved by bscd
send_request_to_bsc_server 20                    # a value
send_request_to_bsc_server SYNCED_CODE           # a variable's name: its value is sent
send_request_to_bsc_server SUCCESSFUL_CODE
pid=$(cat "$BSCD_RUNTIME_DIR/bscd-demo.pid")
stop_bscd
test ! -e "$BSCD_RUNTIME_DIR/bscd-demo.pid" && echo "PID-FILE-GONE"
test ! -e "$BSCD_RUNTIME_DIR/bscd-demo.sock" && echo "SOCKET-GONE"
read -r _ _ state _ < "/proc/$pid/stat" 2>/dev/null || state=gone
[[ $state == gone || $state == Z ]] && echo "DAEMON-GONE"
)",
                              enabled);
    expect_finished(result);
    for (const char* mark :
         {"PID-FILE-AFTER-START", "PID-FILE-GONE", "SOCKET-GONE", "DAEMON-GONE"}) {
        EXPECT_NE(result.output.find(mark), std::string::npos) << mark << "\n" << result.output;
    }
    EXPECT_EQ(channel.collect(4), (std::vector<std::string>{"10", "20", "82", "1000"}));
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "20", "82", "1000"}));
    EXPECT_NE(result.output.find("bscd serves channel bscd-demo"), std::string::npos);
}

TEST_F(ShellLibraryTest, PiemansExitRequestStopsTheDaemon) {
    const auto result = build(R"(
start_bscd
send_request_to_bsc_server EXIT_REQUEST
test ! -e "$BSCD_RUNTIME_DIR/bscd-demo.pid" && echo "PID-FILE-GONE"
stop_bscd   # nothing left to stop: returns at once
)",
                              enabled);
    expect_finished(result);
    EXPECT_NE(result.output.find("PID-FILE-GONE"), std::string::npos) << result.output;
}

TEST_F(ShellLibraryTest, DoesNothingWhenTheChannelIsNotEnabled) {
    Subscriber channel(redis, "bscd-demo");
    for (const EnvVars& env : {EnvVars{}, EnvVars{{"ENABLE_BSC_CHANNEL", "false"}}}) {
        const auto result = build(R"(
check_redis; start_bscd
test -e "$BSCD_RUNTIME_DIR/bscd-demo.pid" && echo "UNEXPECTED-DAEMON"
send_request_to_bsc_server PREPARED_CHROOT_ENV_CODE
stop_bscd
)",
                                  env);
        expect_finished(result);
        EXPECT_EQ(result.output.find("UNEXPECTED-DAEMON"), std::string::npos) << result.output;
        EXPECT_EQ(result.output.find("bsc.sh"), std::string::npos) << "silent when off\n"
                                                                   << result.output;
    }
    EXPECT_EQ(channel.next_after_own_sentinel(redis), Subscriber::own_sentinel);
}

TEST_F(ShellLibraryTest, RedisDownAtTheStartTheBuildGoesOnWithoutTheChannel) {
    redis.stop();
    const auto result = build(R"(
check_redis
echo "REDIS_IS_AVAILABLE=$REDIS_IS_AVAILABLE"
start_bscd
test -e "$BSCD_RUNTIME_DIR/bscd-demo.pid" && echo "UNEXPECTED-DAEMON"
send_request_to_bsc_server PREPARED_CHROOT_ENV_CODE
send_request_to_bsc_server SUCCESSFUL_CODE
stop_bscd
)",
                              enabled);
    expect_finished(result);
    EXPECT_NE(result.output.find("REDIS_IS_AVAILABLE=false"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("warning: could not connect to Redis " + redis.host() + ":" +
                                 std::to_string(redis.port())),
              std::string::npos)
        << result.output;
    EXPECT_EQ(result.output.find("UNEXPECTED-DAEMON"), std::string::npos) << result.output;
}

TEST_F(ShellLibraryTest, BscdKilledMidBuildTheBuildGoesOn) {
    Subscriber channel(redis, "bscd-demo");
    const auto result = build(R"(
check_redis; start_bscd
send_request_to_bsc_server PREPARED_CHROOT_ENV_CODE
for _ in $(seq 500); do      # 10 reaches Redis first: what bscd held unconfirmed would die with it
  [[ $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" xlen bscd-demo:events) == 1 ]] && break
  sleep 0.01
done
pid=$(cat "$BSCD_RUNTIME_DIR/bscd-demo.pid")
kill -KILL "$pid"
for _ in $(seq 500); do      # the test waits for the kill to land, with a deadline
  read -r _ _ state _ < "/proc/$pid/stat" 2>/dev/null || break
  [[ $state == Z ]] && break
  sleep 0.01
done
send_request_to_bsc_server SET_UP_LOCALE_CODE
send_request_to_bsc_server SUCCESSFUL_CODE
stop_bscd
test ! -e "$BSCD_RUNTIME_DIR/bscd-demo.pid" && echo "STALE-PID-FILE-REMOVED"
)",
                              enabled);
    expect_finished(result);
    EXPECT_NE(result.output.find("warning: bscd did not take SET_UP_LOCALE_CODE"),
              std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("STALE-PID-FILE-REMOVED"), std::string::npos) << result.output;
    EXPECT_EQ(channel.collect(1), std::vector<std::string>{"10"});
    EXPECT_EQ(channel.next_after_own_sentinel(redis), Subscriber::own_sentinel);
}

TEST_F(ShellLibraryTest, BscdThatCannotStartDoesNotFailTheBuild) {
    std::ofstream(dir.file("a-file")) << "not a directory\n";
    const auto result =
        build(R"(
start_bscd
send_request_to_bsc_server PREPARED_CHROOT_ENV_CODE
stop_bscd
)",
              {{"ENABLE_BSC_CHANNEL", "true"}, {"BSCD_RUNTIME_DIR", dir.file("a-file/run")}});
    expect_finished(result);
    EXPECT_NE(result.output.find("warning: could not start bscd: "), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("the build goes on"), std::string::npos) << result.output;
}

TEST_F(ShellLibraryTest, AnUnknownRequestIsAWarningNotAFailure) {
    Subscriber channel(redis, "bscd-demo");
    const auto result = build(R"(
start_bscd
send_request_to_bsc_server NO_SUCH_CODE
send_request_to_bsc_server 77
send_request_to_bsc_server
send_request_to_bsc_server SUCCESSFUL_CODE
stop_bscd
)",
                              enabled);
    expect_finished(result);
    EXPECT_NE(result.output.find("unknown code name NO_SUCH_CODE"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("unknown code 77"), std::string::npos) << result.output;
    EXPECT_EQ(channel.collect(1), std::vector<std::string>{"1000"});
    EXPECT_EQ(channel.next_after_own_sentinel(redis), Subscriber::own_sentinel);
}

TEST_F(ShellLibraryTest, OneServerIsPassedAsHostAndPort) {
    const std::string bin_dir = fake_programs();
    const auto result = build("BSCD_BIN_DIR=" + bin_dir + "\ncheck_redis; start_bscd\n", enabled);
    expect_finished(result);
    const std::string host = redis.host();
    const std::string port = std::to_string(redis.port());
    EXPECT_EQ(
        args_of(recorded(bin_dir, "bsc")),
        (std::vector<std::string>{"check-redis", "--redis-host", host, "--redis-port", port}));
    EXPECT_EQ(args_of(recorded(bin_dir, "bscd")),
              (std::vector<std::string>{"--daemonize", "--project", "demo", "--unix-socket-name",
                                        socket_path(), "--pid", pid_file(), "--log-file-prefix",
                                        dir.file("bscd-demo.log"), "--redis-host", host,
                                        "--redis-port", port}));
    EXPECT_NE(result.output.find("Redis " + host + ":" + port + " is available"), std::string::npos)
        << result.output;
}

TEST_F(ShellLibraryTest, BscdProfileIsPassedAsProfile) {
    struct Case {
        std::string settings;  // builder lines
        std::vector<std::string> profile_args;
    };
    const Case cases[] = {
        {"BSCD_PROFILE=bookworm-arm64", {"--profile", "bookworm-arm64"}},  // only set
        {"export BSCD_PROFILE=raspbian-buster-armhf.rpi-3-b",
         {"--profile", "raspbian-buster-armhf.rpi-3-b"}},
        {"unset BSCD_PROFILE", {}},  // bscd's own default then
        {"BSCD_PROFILE=", {}},
    };
    const std::string host = redis.host();
    const std::string port = std::to_string(redis.port());
    for (const auto& c : cases) {
        SCOPED_TRACE(c.settings);
        const std::string bin_dir = fake_programs();
        const auto result =
            build("BSCD_BIN_DIR=" + bin_dir + "\n" + c.settings + "\nstart_bscd\n", enabled);
        expect_finished(result);
        std::vector<std::string> expected{
            "--daemonize",        "--project",         "demo",
            "--unix-socket-name", socket_path(),       "--pid",
            pid_file(),           "--log-file-prefix", dir.file("bscd-demo.log")};
        expected.insert(expected.end(), c.profile_args.begin(), c.profile_args.end());
        expected.insert(expected.end(), {"--redis-host", host, "--redis-port", port});
        EXPECT_EQ(args_of(recorded(bin_dir, "bscd")), expected);
    }
}

TEST_F(ShellLibraryTest, TheRealBscdTakesTheProfileAndAnInvalidOneDoesNotFailTheBuild) {
    const auto served = build("BSCD_PROFILE=bookworm-arm64\nstart_bscd\nstop_bscd\n", enabled);
    expect_finished(served);
    EXPECT_NE(served.output.find("bscd serves channel bscd-demo"), std::string::npos)
        << served.output;

    const auto refused = build("BSCD_PROFILE='bookworm arm64'\nstart_bscd\n", enabled);
    expect_finished(refused);
    EXPECT_NE(refused.output.find("warning: could not start bscd: "), std::string::npos)
        << refused.output;
    EXPECT_NE(refused.output.find(std::string(profile_name_rule)), std::string::npos)
        << refused.output;
    EXPECT_FALSE(fs::exists(pid_file()));
}

TEST_F(ShellLibraryTest, ATopologyGoesThroughTheEnvironmentWithoutHostAndPort) {
    struct Case {
        std::string settings;  // builder lines: only set, or exported
        std::string named;     // how the library names that Redis
        std::vector<std::pair<std::string, std::string>> seen;  // by the programs
    };
    const Case cases[] = {
        {"REDIS_SENTINELS=127.0.0.1:26379,127.0.0.1:26380\nREDIS_MASTER_NAME=builds",
         "master builds of the sentinels 127.0.0.1:26379,127.0.0.1:26380",
         {{"REDIS_SENTINELS", "127.0.0.1:26379,127.0.0.1:26380"}, {"REDIS_MASTER_NAME", "builds"}}},
        {"export REDIS_CLUSTER=127.0.0.1:7000",
         "cluster 127.0.0.1:7000",
         {{"REDIS_CLUSTER", "127.0.0.1:7000"}}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.settings);
        const std::string bin_dir = fake_programs();
        const auto result = build(
            "BSCD_BIN_DIR=" + bin_dir + "\n" + c.settings + "\ncheck_redis; start_bscd\n", enabled);
        expect_finished(result);
        const auto bsc = recorded(bin_dir, "bsc");
        const auto bscd = recorded(bin_dir, "bscd");
        EXPECT_EQ(args_of(bsc), std::vector<std::string>{"check-redis"});
        EXPECT_EQ(args_of(bscd),
                  (std::vector<std::string>{
                      "--daemonize", "--project", "demo", "--unix-socket-name", socket_path(),
                      "--pid", pid_file(), "--log-file-prefix", dir.file("bscd-demo.log")}));
        for (const auto& [name, value] : c.seen) {
            EXPECT_EQ(env_of(bsc, name), value) << name;
            EXPECT_EQ(env_of(bscd, name), value) << name;
        }
        EXPECT_NE(result.output.find("Redis " + c.named + " is available"), std::string::npos)
            << result.output;
        EXPECT_NE(result.output.find("bscd serves channel bscd-demo"), std::string::npos)
            << result.output;
    }
}

TEST_F(ShellLibraryTest, AnUnreachableSentinelGroupTheBuildGoesOnWithoutTheChannel) {
    // The real programs: REDIS_HOST and REDIS_PORT (set, to this test's
    // Redis) are ignored, and -H/-P are not passed, so no usage error: the
    // sentinel, where nothing listens, is what fails.
    const std::string sentinel = "127.0.0.1:" + std::to_string(free_port());
    const auto result = build("export REDIS_SENTINELS=" + sentinel + R"(
check_redis
echo "REDIS_IS_AVAILABLE=$REDIS_IS_AVAILABLE"
REDIS_IS_AVAILABLE=true start_bscd
test -e "$BSCD_RUNTIME_DIR/bscd-demo.pid" && echo "UNEXPECTED-DAEMON"
send_request_to_bsc_server PREPARED_CHROOT_ENV_CODE
stop_bscd
)",
                              enabled);
    expect_finished(result);
    EXPECT_NE(result.output.find("REDIS_IS_AVAILABLE=false"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("warning: could not connect to Redis master mymaster of the "
                                 "sentinels " +
                                 sentinel),
              std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("warning: could not start bscd: "), std::string::npos)
        << result.output;
    EXPECT_EQ(result.output.find("UNEXPECTED-DAEMON"), std::string::npos) << result.output;
    EXPECT_EQ(result.output.find("cannot be combined"), std::string::npos) << result.output;
    EXPECT_EQ(result.output.find("Run with --help"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace bscd::test
