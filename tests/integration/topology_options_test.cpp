// The Sentinel and Cluster options as every program parses them (bscd, bsc
// watch/status/check-redis, bscd-gateway): the exclusions and malformed
// HOST:PORT texts are usage errors (status 2, one line naming both sides),
// and REDIS_HOST/REDIS_PORT in the environment are ignored beside a
// topology. Then Pieman's program names, which drop Pieman's -H/-P when the
// environment names a topology. No Sentinel or Cluster runs here: options
// are checked before anything is connected, and a topology that was
// accepted shows as the failure to reach it, never as a usage error.

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/free_port.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;

constexpr int usage_status = 2;
const std::string usage_hint = "Run with --help for more information.";

// One program with the arguments that make it stop right after its options
// when they are accepted: nothing listens where Redis is said to be, and the
// gateway only prints a token.
struct Program {
    std::string label;
    std::vector<std::string> argv;
    int status_when_accepted;  // with Redis out of reach
};

// Variables a test runner may have exported: empty counts as unset.
const EnvVars neutral_env{{"REDIS_HOST", ""},
                          {"REDIS_PORT", ""},
                          {"REDIS_SENTINELS", ""},
                          {"REDIS_CLUSTER", ""},
                          {"REDIS_MASTER_NAME", ""},
                          {"REDIS_SENTINEL_USER", ""},
                          {"REDIS_PASSWORD", ""},
                          {"REDIS_SENTINEL_PASSWORD", ""},
                          {"REDIS_USER", ""},
                          {"PROJECT_NAME", ""},
                          {"BSCD_TOKEN_SECRET", "secret"}};

// `base` with `overrides` replacing variables of the same name (Process
// would pass both, and getenv takes the first).
EnvVars with_env(const EnvVars& base, const EnvVars& overrides) {
    std::map<std::string, std::string> merged(base.begin(), base.end());
    for (const auto& [name, value] : overrides) {
        merged[name] = value;
    }
    return {merged.begin(), merged.end()};
}

std::vector<std::string> concat(std::vector<std::string> head,
                                const std::vector<std::string>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

// The first line of `output` holding every one of `words`; empty if none.
std::string line_naming(const std::string& output, const std::vector<std::string>& words) {
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
        bool all = true;
        for (const auto& word : words) {
            all = all && line.find(word) != std::string::npos;
        }
        if (all) {
            return line;
        }
    }
    return {};
}

class TopologyOptionsTest : public ::testing::Test {
protected:
    std::vector<Program> programs() const {
        return {
            {"bscd", {bin("bscd"), "--project", "demo", "--runtime-dir", dir.path()}, 1},
            {"bsc watch", {bin("bsc"), "watch", "demo", "--timeout", "1"}, 2},
            {"bsc status", {bin("bsc"), "status", "demo"}, 1},
            {"bsc check-redis", {bin("bsc"), "check-redis", "--timeout", "1"}, 1},
            {"bscd-gateway", {bin("bscd-gateway"), "--print-token", "demo"}, 0},
        };
    }

    // Runs every program with `args` and `env`: each must be a usage error
    // with a line naming every one of `named`.
    void expect_usage_error(const std::vector<std::string>& args, const EnvVars& env,
                            const std::vector<std::string>& named) const {
        for (const auto& program : programs()) {
            const auto result = run(concat(program.argv, args), with_env(neutral_env, env));
            EXPECT_EQ(result.status, usage_status) << program.label << "\n" << result.output;
            EXPECT_FALSE(line_naming(result.output, named).empty())
                << program.label << ": no line names all of " << ::testing::PrintToString(named)
                << "\n"
                << result.output;
            EXPECT_NE(result.output.find(usage_hint), std::string::npos) << program.label << "\n"
                                                                         << result.output;
        }
    }

    // Runs every program with `args` and `env`: each must take them, and
    // stop only because Redis is out of reach.
    void expect_accepted(const std::vector<std::string>& args, const EnvVars& env) const {
        for (const auto& program : programs()) {
            const auto result = run(concat(program.argv, args), with_env(neutral_env, env));
            EXPECT_EQ(result.status, program.status_when_accepted) << program.label << "\n"
                                                                   << result.output;
            EXPECT_EQ(result.output.find(usage_hint), std::string::npos) << program.label << "\n"
                                                                         << result.output;
            EXPECT_EQ(result.output.find("cannot be combined"), std::string::npos)
                << program.label << "\n"
                << result.output;
        }
    }

    TempDir dir;
    // Where nothing listens: a topology that was accepted fails to connect.
    const std::string nowhere = "127.0.0.1:" + std::to_string(free_port());
    const std::string nowhere_either = "127.0.0.1:" + std::to_string(free_port());
};

TEST_F(TopologyOptionsTest, OneServerOptionsExcludeATopology) {
    struct Case {
        std::vector<std::string> args;
        EnvVars env;
        std::vector<std::string> named;
    };
    const Case cases[] = {
        {{"-H", "127.0.0.1", "--redis-sentinel", nowhere},
         {},
         {"--redis-host", "--redis-sentinel"}},
        {{"--redis-host=127.0.0.1", "--redis-cluster", nowhere},
         {},
         {"--redis-host", "--redis-cluster"}},
        {{"-P", "6380", "--redis-sentinel", nowhere}, {}, {"--redis-port", "--redis-sentinel"}},
        {{"--redis-port", "6380", "--redis-cluster", nowhere},
         {},
         {"--redis-port", "--redis-cluster"}},
        {{"--redis-socket", "/tmp/redis.sock", "--redis-sentinel", nowhere},
         {},
         {"--redis-socket", "--redis-sentinel"}},
        {{"--redis-socket", "/tmp/redis.sock", "--redis-cluster", nowhere},
         {},
         {"--redis-socket", "--redis-cluster"}},
        // The environment's topology against the command line's server.
        {{"-H", "127.0.0.1"},
         {{"REDIS_SENTINELS", nowhere}},
         {"--redis-host", "REDIS_SENTINELS", "--redis-sentinel"}},
        {{"-P", "6380"}, {{"REDIS_CLUSTER", nowhere}}, {"--redis-port", "REDIS_CLUSTER"}},
        {{"--redis-socket", "/tmp/redis.sock"},
         {{"REDIS_SENTINELS", nowhere}},
         {"--redis-socket", "REDIS_SENTINELS"}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(::testing::PrintToString(c.args));
        expect_usage_error(c.args, c.env, c.named);
    }
}

TEST_F(TopologyOptionsTest, SentinelAndClusterExcludeEachOther) {
    struct Case {
        std::vector<std::string> args;
        EnvVars env;
        std::vector<std::string> named;
    };
    const Case cases[] = {
        {{"--redis-sentinel", nowhere, "--redis-cluster", nowhere_either},
         {},
         {"--redis-sentinel", "--redis-cluster"}},
        {{"--redis-cluster", nowhere},
         {{"REDIS_SENTINELS", nowhere_either}},
         {"REDIS_SENTINELS", "--redis-cluster"}},
        {{"--redis-sentinel", nowhere},
         {{"REDIS_CLUSTER", nowhere_either}},
         {"--redis-sentinel", "REDIS_CLUSTER"}},
        {{},
         {{"REDIS_SENTINELS", nowhere}, {"REDIS_CLUSTER", nowhere_either}},
         {"REDIS_SENTINELS", "REDIS_CLUSTER"}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(::testing::PrintToString(c.args));
        expect_usage_error(c.args, c.env, c.named);
    }
}

TEST_F(TopologyOptionsTest, AClusterHasOnlyDatabaseZero) {
    expect_usage_error({"--redis-cluster", nowhere, "--redis-db", "1"}, {},
                       {"--redis-db 1", "--redis-cluster"});
    expect_usage_error({"--redis-db", "3"}, {{"REDIS_CLUSTER", nowhere}},
                       {"--redis-db 3", "REDIS_CLUSTER"});
    expect_accepted({"--redis-cluster", nowhere, "--redis-db", "0"}, {});
}

TEST_F(TopologyOptionsTest, MalformedNodesAreUsageErrorsNamingTheText) {
    struct Case {
        std::vector<std::string> args;
        EnvVars env;
        std::vector<std::string> named;
    };
    const Case cases[] = {
        {{"--redis-sentinel", "localhost"}, {}, {"--redis-sentinel", "\"localhost\""}},
        {{"--redis-sentinel", nowhere, "--redis-sentinel", "10.0.0.1:"},
         {},
         {"--redis-sentinel", "\"10.0.0.1:\""}},
        {{"--redis-cluster", "127.0.0.1:65536"}, {}, {"--redis-cluster", "\"127.0.0.1:65536\""}},
        {{"--redis-cluster", "::1:7000"}, {}, {"--redis-cluster", "\"::1:7000\""}},
        {{}, {{"REDIS_SENTINELS", nowhere + ",nowhere"}}, {"REDIS_SENTINELS", ",nowhere\""}},
        {{}, {{"REDIS_SENTINELS", nowhere + ";" + nowhere}}, {"REDIS_SENTINELS", nowhere + ";"}},
        {{}, {{"REDIS_CLUSTER", "redis-1:7000,,redis-2:7000"}}, {"REDIS_CLUSTER", ",,redis-2"}},
        {{}, {{"REDIS_CLUSTER", "redis-1:port"}}, {"REDIS_CLUSTER", "\"redis-1:port\""}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(::testing::PrintToString(c.args) + " " + ::testing::PrintToString(c.env));
        expect_usage_error(c.args, c.env, c.named);
    }
}

TEST_F(TopologyOptionsTest, TheEnvironmentsHostAndPortAreIgnoredBesideATopology) {
    // A shell set up for one server keeps working when a topology is added.
    const EnvVars one_server{{"REDIS_HOST", "192.0.2.1"}, {"REDIS_PORT", "6380"}};
    expect_accepted({}, with_env(one_server, {{"REDIS_SENTINELS", nowhere}}));
    expect_accepted({}, with_env(one_server, {{"REDIS_CLUSTER", nowhere + "," + nowhere_either}}));
    expect_accepted({"--redis-sentinel", nowhere, "--redis-master-name", "builds"}, one_server);
    expect_accepted({"--redis-cluster", nowhere, "--redis-cluster", nowhere_either}, one_server);
}

TEST_F(TopologyOptionsTest, SentinelSettingsAreAccepted) {
    const std::string password_file = dir.write_file("sentinel-password", "sentinel-secret\n");
    expect_accepted(
        {"--redis-sentinel", nowhere + ", " + nowhere_either, "--redis-master-name", "builds",
         "--redis-sentinel-user", "watcher", "--redis-sentinel-password-file", password_file},
        {});
    expect_accepted({}, {{"REDIS_SENTINELS", "[::1]:1," + nowhere},
                         {"REDIS_MASTER_NAME", "builds"},
                         {"REDIS_SENTINEL_USER", "watcher"},
                         {"REDIS_SENTINEL_PASSWORD", "sentinel-secret"}});
    expect_usage_error(
        {"--redis-sentinel", nowhere, "--redis-sentinel-password-file", dir.file("missing")}, {},
        {"--redis-sentinel-password-file", "missing"});
}

TEST_F(TopologyOptionsTest, BscdRedisReplicas) {
    const std::vector<std::string> bscd{bin("bscd"), "--project",        "demo", "--runtime-dir",
                                        dir.path(),  "--redis-sentinel", nowhere};
    for (const char* bad : {"-1", "x", "1.5", ""}) {
        const auto result = run(concat(bscd, {"--redis-replicas", bad}), neutral_env);
        EXPECT_EQ(result.status, usage_status) << bad << "\n" << result.output;
        EXPECT_FALSE(line_naming(result.output, {"--redis-replicas"}).empty()) << result.output;
    }
    for (const char* good : {"0", "2"}) {
        const auto result = run(concat(bscd, {"--redis-replicas", good}), neutral_env);
        EXPECT_EQ(result.status, 1) << good << ": Redis is out of reach\n" << result.output;
        EXPECT_EQ(result.output.find(usage_hint), std::string::npos) << result.output;
    }
    // Confirmation leans on the history script; without it there is none.
    const auto unsupported =
        run(concat(bscd, {"--redis-replicas", "1", "--no-history"}), neutral_env);
    EXPECT_EQ(unsupported.status, usage_status) << unsupported.output;
    EXPECT_FALSE(line_naming(unsupported.output, {"--redis-replicas", "--no-history"}).empty())
        << unsupported.output;
    const auto help = run({bin("bscd"), "--help"}, neutral_env);
    EXPECT_NE(help.output.find("--redis-replicas R=0"), std::string::npos) << help.output;
}

TEST_F(TopologyOptionsTest, HelpNamesTheNewOptionsInEveryProgram) {
    const std::vector<std::vector<std::string>> helps{
        {bin("bscd"), "--help"},
        {bin("bsc"), "watch", "--help"},
        {bin("bsc"), "status", "--help"},
        {bin("bsc"), "history", "--help"},
        {bin("bsc"), "check-redis", "--help"},
        {bin("bscd-gateway"), "--help"},
    };
    for (const auto& argv : helps) {
        const auto result = run(argv, neutral_env);
        EXPECT_EQ(result.status, 0) << argv[1] << "\n" << result.output;
        for (const char* option :
             {"--redis-sentinel HOST:PORT", "REDIS_SENTINELS", "--redis-master-name NAME",
              "REDIS_MASTER_NAME", "--redis-sentinel-user NAME", "REDIS_SENTINEL_USER",
              "--redis-sentinel-password-file FILE", "REDIS_SENTINEL_PASSWORD",
              "--redis-cluster HOST:PORT", "REDIS_CLUSTER", "docs/scaling.md"}) {
            EXPECT_NE(result.output.find(option), std::string::npos)
                << argv[0] << " " << argv[1] << ": " << option << "\n"
                << result.output;
        }
    }
}

// Pieman's program names, copied beside a stand-in program that records the
// arguments and the environment it was given.
class PiemanNamesTopology : public ::testing::Test {
protected:
    // share/pieman/SCRIPT next to a fake PROGRAM (bscd or bsc).
    void install(const std::string& script, const std::string& program) const {
        fs::copy_file(fs::path(BSCD_SOURCE_DIR) / "share/pieman" / script, dir.file(script));
        const std::string fake = dir.file(program);
        std::ofstream(fake) << "#!/bin/sh\n"
                               "{\n"
                               "  for arg in \"$@\"; do printf 'arg %s\\n' \"$arg\"; done\n"
                               "  env | grep '^REDIS_' | sed 's/^/env /'\n"
                               "} > \"$(dirname \"$0\")/recorded\"\n";
        fs::permissions(fake, fs::perms::owner_all);
    }

    // What the fake program was given: "arg X" and "env NAME=VALUE" lines.
    std::vector<std::string> recorded() const {
        std::ifstream in(dir.file("recorded"));
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

    RunResult python(const std::string& script, const std::vector<std::string>& args,
                     const EnvVars& env) const {
        return run(concat({"python3", dir.file(script)}, args), with_env(neutral_env, env));
    }

    // Pieman's environment: its REDIS_HOST and REDIS_PORT exported too.
    const EnvVars piemans{{"REDIS_HOST", "192.0.2.1"}, {"REDIS_PORT", "6380"}};
    TempDir dir;
};

TEST_F(PiemanNamesTopology, BscdPyPassesHostAndPortOnlyForOneServer) {
    install("bscd.py", "bscd");
    const std::vector<std::string> pieman_args{"-a",        "/run/b.sock", "-d",         "-n",
                                               "bscd-pkg",  "-p",          "/run/b.pid", "-H",
                                               "192.0.2.1", "-P",          "6380"};

    ASSERT_EQ(python("bscd.py", pieman_args, piemans).status, 0);
    EXPECT_EQ(args_of(recorded()),
              (std::vector<std::string>{"--unix-socket-name", "/run/b.sock", "--redis-host",
                                        "192.0.2.1", "--redis-port", "6380", "--channel-name",
                                        "bscd-pkg", "--pid", "/run/b.pid", "--daemonize"}));

    for (const auto& topology : {EnvVars{{"REDIS_SENTINELS", "10.0.0.1:26379,10.0.0.2:26379"},
                                         {"REDIS_MASTER_NAME", "builds"}},
                                 EnvVars{{"REDIS_CLUSTER", "10.0.0.1:7000"}}}) {
        SCOPED_TRACE(topology.front().first);
        ASSERT_EQ(python("bscd.py", pieman_args, with_env(piemans, topology)).status, 0);
        const auto given = recorded();
        EXPECT_EQ(args_of(given),
                  (std::vector<std::string>{"--unix-socket-name", "/run/b.sock", "--channel-name",
                                            "bscd-pkg", "--pid", "/run/b.pid", "--daemonize"}));
        for (const auto& [name, value] : topology) {
            EXPECT_EQ(env_of(given, name), value) << name;
        }
        EXPECT_EQ(env_of(given, "REDIS_HOST"), "unset");
        EXPECT_EQ(env_of(given, "REDIS_PORT"), "unset");
    }
}

TEST_F(PiemanNamesTopology, CheckRedisPyPassesHostAndPortOnlyForOneServer) {
    install("check_redis.py", "bsc");
    const std::vector<std::string> pieman_args{"-H", "192.0.2.1", "-P", "6380"};

    ASSERT_EQ(python("check_redis.py", pieman_args, piemans).status, 0);
    EXPECT_EQ(args_of(recorded()), (std::vector<std::string>{"check-redis", "--redis-host",
                                                             "192.0.2.1", "--redis-port", "6380"}));

    ASSERT_EQ(python("check_redis.py", pieman_args,
                     with_env(piemans, {{"REDIS_SENTINELS", "10.0.0.1:26379"}}))
                  .status,
              0);
    const auto given = recorded();
    EXPECT_EQ(args_of(given), (std::vector<std::string>{"check-redis"}));
    EXPECT_EQ(env_of(given, "REDIS_SENTINELS"), "10.0.0.1:26379");
    EXPECT_EQ(env_of(given, "REDIS_HOST"), "unset");
}

TEST_F(PiemanNamesTopology, TheRealProgramsTakeWhatTheWrappersPass) {
    // The wrappers beside links to the built programs, as installed.
    for (const char* script : {"bscd.py", "check_redis.py"}) {
        fs::copy_file(fs::path(BSCD_SOURCE_DIR) / "share/pieman" / script, dir.file(script));
    }
    fs::create_symlink(bin("bscd"), dir.file("bscd"));
    fs::create_symlink(bin("bsc"), dir.file("bsc"));
    const EnvVars sentinels =
        with_env(piemans, {{"REDIS_SENTINELS", "127.0.0.1:" + std::to_string(free_port())}});

    const auto checked = python("check_redis.py", {"-H", "192.0.2.1", "-P", "6380"}, sentinels);
    EXPECT_EQ(checked.status, 1) << "the sentinel is out of reach\n" << checked.output;
    EXPECT_EQ(checked.output.find(usage_hint), std::string::npos) << checked.output;

    const auto started = python("bscd.py",
                                {"-a", dir.file("b.sock"), "-d", "-n", "bscd-pkg", "-p",
                                 dir.file("b.pid"), "-H", "192.0.2.1", "-P", "6380"},
                                sentinels);
    EXPECT_EQ(started.status, 1) << "the sentinel is out of reach\n" << started.output;
    EXPECT_EQ(started.output.find(usage_hint), std::string::npos) << started.output;
    EXPECT_FALSE(fs::exists(dir.file("b.pid")));
}

}  // namespace
}  // namespace bscd::test
