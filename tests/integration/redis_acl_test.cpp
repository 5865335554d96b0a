// bscd, bsc and bscd-gateway against a redis-server with ACL users: the
// least-privileged users README.md documents work, a wrong password is a
// clear start-up error, a refused subscription is reported (and the
// gateway's viewers answered) instead of awaited, and no password ever shows
// in ps, in an error or in a log.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "redis/channel_subscriber.hpp"
#include "support/free_port.hpp"
#include "support/history_codes.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/producer_client.hpp"
#include "support/redis_server.hpp"
#include "support/sse_client.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string admin_password = "admin-Pw-0x51";
const std::string builder_password = "builder-Pw-0x52";
const std::string viewer_password = "viewer-Pw-0x53";
const std::string wrong_password = "wrong-Pw-0x54";

// The ACLs of README.md's "Access" section, as redis-server arguments.
std::vector<std::string> acl_users() {
    std::vector<std::string> args;
    const auto user = [&](const std::string& name, const std::string& password,
                          std::initializer_list<std::string> rules) {
        args.insert(args.end(), {"--user", name, "on", ">" + password});
        args.insert(args.end(), rules);
    };
    // bscd: the history script and what it calls, on the channels `channel`
    // names and their streams (and the keys hashing with them).
    const auto bscd = [&](const std::string& name, const std::string& channel) {
        user(name, builder_password,
             {"resetchannels",
              "&" + channel,
              "resetkeys",
              "~" + channel + ":events",
              "~{" + channel + ":events}:*",
              "~bscd-profile:*",
              "~bscd-builds",
              "-@all",
              "+ping",
              "+xinfo|stream",
              "+script|load",
              "+eval",
              "+evalsha",
              "+exists",
              "+xadd",
              "+xrange",
              "+publish",
              "+pexpire",
              "+pttl",
              "+hsetnx",
              "+hset",
              "+hmget",
              "+lrange",
              "+lpush",
              "+ltrim",
              "+zadd",
              "+zremrangebyscore"});
    };
    bscd("builder-demo", "bscd-demo");  // one project's builder
    bscd("builder", "bscd-*");          // every project's: a single trusted builder
    // The builder of README's earlier versions, before bscd kept builds' starts.
    user("older-builder", builder_password,
         {"resetchannels", "&bscd-*", "resetkeys", "~bscd-*:events", "~{bscd-*:events}:*", "-@all",
          "+ping", "+xinfo|stream", "+script|load", "+evalsha", "+exists", "+xadd", "+xrange",
          "+publish", "+pexpire", "+pttl"});
    // bscd --no-history: Pieman's traffic, PUBLISH only.
    user("pieman-demo", builder_password,
         {"resetchannels", "&bscd-demo", "resetkeys", "-@all", "+ping", "+publish"});
    // bsc watch/status/history and bscd-gateway: read only.
    user("viewer", viewer_password,
         {"resetchannels", "&bscd-*", "resetkeys", "%R~bscd-*:events", "%R~{bscd-*:events}:*",
          "%R~bscd-profile:*", "%R~bscd-builds", "-@all", "+ping", "+subscribe", "+unsubscribe",
          "+xrange", "+xread", "+xinfo|stream", "+hmget", "+lrange", "+zrevrange", "+time"});
    // A viewer of the builds named open* only.
    user("outsider", viewer_password,
         {"resetchannels", "&bscd-open*", "resetkeys", "%R~bscd-open*:events", "-@all", "+ping",
          "+subscribe", "+unsubscribe", "+xrange", "+xread", "+xinfo|stream"});
    return args;
}

RedisServerOptions acl_server() {
    RedisServerOptions options;
    options.requirepass = admin_password;  // the default user: the tests' own checks
    options.extra_args = acl_users();
    return options;
}

class RedisAclTest : public ::testing::Test {
protected:
    std::vector<std::string> bscd_args(const std::vector<std::string>& extra,
                                       const std::string& project = "demo") const {
        std::vector<std::string> args{bin("bscd"),     "--project", project,
                                      "--runtime-dir", dir.path(),  "-H",
                                      redis.host(),    "-P",        std::to_string(redis.port())};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }
    std::vector<std::string> bsc_args(const std::vector<std::string>& args) const {
        std::vector<std::string> all{bin("bsc")};
        all.insert(all.end(), args.begin(), args.end());
        all.insert(all.end(), {"-H", redis.host(), "-P", std::to_string(redis.port())});
        return all;
    }
    std::string socket_path(const std::string& project = "demo") const {
        return dir.file("bscd-" + project + ".sock");
    }
    std::string pid_file(const std::string& project = "demo") const {
        return dir.file("bscd-" + project + ".pid");
    }
    // bscd as the builder user, its password from a file; waits until it serves.
    std::unique_ptr<Process> start_builder_bscd(const std::string& project = "demo",
                                                const std::vector<std::string>& extra = {},
                                                const std::string& user = "builder") {
        std::vector<std::string> args{"--redis-user", user, "--redis-password-file",
                                      dir.write_file("builder.pw", builder_password + "\n")};
        args.insert(args.end(), extra.begin(), extra.end());
        auto daemon = std::make_unique<Process>(bscd_args(args, project));
        EXPECT_TRUE(
            wait_until([&] { return fs::exists(pid_file(project)) || !daemon->running(); }));
        EXPECT_TRUE(daemon->running()) << daemon->output();
        return daemon;
    }
    // bscd-gateway on `port`, reaching this test's Redis, with `extra`
    // arguments and `env`; returns once it answers /healthz.
    Process start_gateway(int port, const std::vector<std::string>& extra,
                          const EnvVars& env = {}) const {
        std::vector<std::string> args{
            bin("bscd-gateway"), "--listen", "127.0.0.1:" + std::to_string(port), "-H",
            redis.host(),        "-P",       std::to_string(redis.port())};
        args.insert(args.end(), extra.begin(), extra.end());
        Process gateway(args, env);
        EXPECT_TRUE(
            wait_until([&] { return http_get(port, "/healthz", {}, 500ms).status == 200; }, 10s))
            << gateway.output();
        return gateway;
    }
    std::vector<std::string> history(const std::string& channel = "bscd-demo") {
        return history_codes(redis, channel);
    }
    // What ps shows of a process: its arguments, NUL-separated.
    static std::string command_line(pid_t pid) {
        return read_file("/proc/" + std::to_string(pid) + "/cmdline");
    }
    static void expect_no_password(const std::string& text, const std::string& where) {
        for (const auto& password :
             {admin_password, builder_password, viewer_password, wrong_password}) {
            EXPECT_EQ(text.find(password), std::string::npos) << "a password in " << where << ":\n"
                                                              << text;
        }
    }

    RedisServer redis{acl_server()};
    TempDir dir;
};

TEST_F(RedisAclTest, BscdPublishesAsItsLeastPrivilegedUser) {
    const std::string log = dir.file("bscd.log");
    auto daemon = start_builder_bscd("demo", {"-l", log, "-v"});
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "10\nSYNCED_CODE\n1000\n"), "OK\nOK\nOK\n");
    EXPECT_EQ(subscriber.collect(3), (std::vector<std::string>{"10", "82", "1000"}));
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "82", "1000"}));
    EXPECT_GT(redis.command({"TTL", "bscd-demo:events"}).integer, 0) << "EXPIRE was refused";
    EXPECT_EQ(exchange(socket_path(), "EXIT\n"), "OK\n");
    EXPECT_EQ(daemon->wait(5s), 0) << daemon->output();
    EXPECT_NE(daemon->output().find("Connected to Redis at builder@127.0.0.1:"), std::string::npos)
        << daemon->output();
    expect_no_password(daemon->output(), "bscd's stderr");
    expect_no_password(read_file(log), "bscd's log file");
}

// README's builder keeps the build's start and profile, and the build's
// record once it ended; one set up as README said before that still gets
// every code written, only without them (and says so).
TEST_F(RedisAclTest, ABuilderKeepsTheBuildsStartAndAnOlderOneStillWritesEveryCode) {
    auto daemon = start_builder_bscd("demo", {"--profile", "p"}, "builder-demo");
    EXPECT_EQ(exchange(socket_path(), "10\n1000\n"), "OK\nOK\n");
    EXPECT_TRUE(wait_until([&] {
        return redis.command({"LLEN", "bscd-profile:p"}).integer == 1;
    })) << daemon->output();
    EXPECT_EQ(redis.command({"HGET", "{bscd-demo:events}:build", "profile"}).str, "p");
    EXPECT_EQ(redis.command({"ZCARD", "bscd-builds"}).integer, 1);

    auto older = start_builder_bscd("old", {"--profile", "p"}, "older-builder");
    Subscriber subscriber(redis, "bscd-old");
    EXPECT_EQ(exchange(socket_path("old"), "10\n20\n1000\n"), "OK\nOK\nOK\n");
    EXPECT_EQ(subscriber.collect(3, 10s), (std::vector<std::string>{"10", "20", "1000"}))
        << older->output();
    EXPECT_EQ(history("bscd-old"), (std::vector<std::string>{"10", "20", "1000"}));
    EXPECT_EQ(redis.command({"EXISTS", "{bscd-old:events}:build"}).integer, 0);
    EXPECT_NE(older->output().find("Redis keeps no start for the build of bscd-old"),
              std::string::npos)
        << older->output();
    EXPECT_EQ(redis.command({"LLEN", "bscd-profile:p"}).integer, 1);
}

// README's per-project builder: its own project's codes go, also past
// another writer's entry (the script's conflict path), and it can write no
// other project's history or channel.
TEST_F(RedisAclTest, APerProjectBuilderWritesItsOwnProjectOnly) {
    auto daemon = start_builder_bscd("demo", {"-v"}, "builder-demo");
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    EXPECT_EQ(subscriber.next(), "10") << daemon->output();
    redis.command({"XADD", "bscd-demo:events", "9999999999999-0", "code", "10", "ts", "1"});
    EXPECT_EQ(exchange(socket_path(), "20\n1000\n"), "OK\nOK\n");
    EXPECT_EQ(subscriber.collect(2, 10s), (std::vector<std::string>{"20", "1000"}))
        << daemon->output();
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "10", "20", "1000"}));
    EXPECT_NE(daemon->output().find("Conflict in the history of bscd-demo"), std::string::npos)
        << daemon->output();
    const auto ttl = redis.command({"TTL", "bscd-demo:events"}).integer;
    EXPECT_GT(ttl, 0) << "PEXPIRE was refused";
    EXPECT_LE(ttl, 86400) << "the lifetime after a final code";

    // bscd for another project does not even start: it cannot read where
    // that history stands.
    const auto intruding = run(bscd_args({"--redis-user", "builder-demo", "--redis-password-file",
                                          dir.write_file("builder.pw", builder_password + "\n")},
                                         "other"));
    EXPECT_EQ(intruding.status, 1);
    EXPECT_NE(intruding.output.find("Could not connect to Redis"), std::string::npos)
        << intruding.output;
    EXPECT_NE(intruding.output.find("NOPERM"), std::string::npos) << intruding.output;

    // Nor by hand.
    auto builder = connect_redis(redis.host(), redis.port(), 5s);
    ASSERT_EQ(redis_command(builder.get(), {"AUTH", "builder-demo", builder_password}).str, "OK");
    for (const auto& command : std::vector<std::vector<std::string>>{
             {"XADD", "bscd-other:events", "*", "code", "10"},
             {"PUBLISH", "bscd-other", "10"},
             {"XADD", "{bscd-other:events}:meta", "*", "code", "10"}}) {
        const Reply refused = redis_command(builder.get(), command);
        EXPECT_EQ(refused.type, Reply::Error) << command[1];
        EXPECT_EQ(refused.str.rfind("NOPERM", 0), 0U) << refused.str;
    }
    expect_no_password(daemon->output() + intruding.output, "bscd's output");
}

TEST_F(RedisAclTest, ARefusedPublishWritesNothingAndTheCodeGoesOnceAllowed) {
    ASSERT_EQ(redis.command({"ACL", "SETUSER", "builder", "-publish"}).str, "OK");
    auto daemon = start_builder_bscd("demo", {"-v"});
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    // Redis refused the script (its own NOPERM reply, counted by Redis).
    ASSERT_TRUE(wait_until([&] { return redis.errors_of("NOPERM") >= 1; })) << daemon->output();
    // The script checked before writing: no history entry that a retry
    // would then skip, leaving the code unpublished.
    EXPECT_EQ(redis.command({"EXISTS", "bscd-demo:events"}).integer, 0);
    ASSERT_EQ(redis.command({"ACL", "SETUSER", "builder", "+publish"}).str, "OK");
    EXPECT_EQ(subscriber.next(10s), "10") << daemon->output();
    // The operator was told why (logged before the retry that succeeded).
    // Logged once bscd reads the refusal, a moment after Redis counted it.
    EXPECT_TRUE(wait_until([&] { return daemon->output().find("NOPERM") != std::string::npos; }))
        << daemon->output();
    // The sentinel: a second 10 would come first.
    EXPECT_EQ(exchange(socket_path(), "20\n"), "OK\n");
    EXPECT_EQ(subscriber.next(10s), "20") << "a code was published twice";
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "20"}));
}

TEST_F(RedisAclTest, NoHistoryNeedsOnlyPublish) {
    Process daemon(bscd_args({"--no-history"}),
                   {{"REDIS_USER", "pieman-demo"}, {"REDIS_PASSWORD", builder_password}});
    ASSERT_TRUE(wait_until([&] { return fs::exists(pid_file()) || !daemon.running(); }));
    ASSERT_TRUE(daemon.running()) << daemon.output();
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "10\n20\n"), "OK\nOK\n");
    EXPECT_EQ(subscriber.collect(2), (std::vector<std::string>{"10", "20"}));
    EXPECT_EQ(exchange(socket_path(), "EXIT\n"), "OK\n");
    EXPECT_EQ(daemon.wait(5s), 0) << daemon.output();
    expect_no_password(daemon.output(), "bscd's stderr");
}

TEST_F(RedisAclTest, WrongPasswordIsAClearStartupErrorWithoutThePassword) {
    const std::string log = dir.file("bscd.log");
    const auto result =
        run(bscd_args({"--redis-user", "builder", "--redis-password-file",
                       dir.write_file("wrong.pw", wrong_password + "\n"), "-l", log, "-v"}));
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.output.find("Could not connect to Redis: Redis at builder@127.0.0.1:" +
                                 std::to_string(redis.port()) +
                                 " refused the user and password: WRONGPASS"),
              std::string::npos)
        << result.output;
    EXPECT_FALSE(fs::exists(socket_path()));
    EXPECT_FALSE(fs::exists(pid_file()));
    expect_no_password(result.output, "bscd's output");
    expect_no_password(read_file(log), "bscd's log file");
}

TEST_F(RedisAclTest, APasswordOnTheCommandLineIsHiddenFromPs) {
    Process daemon(
        bscd_args({"--redis-user", "builder", "--redis-password", builder_password, "-v"}));
    ASSERT_TRUE(wait_until([&] { return fs::exists(pid_file()) || !daemon.running(); }));
    ASSERT_TRUE(daemon.running()) << daemon.output();
    const std::string shown = command_line(daemon.pid());
    expect_no_password(shown, "bscd's /proc/PID/cmdline");
    EXPECT_NE(shown.find(std::string("--redis-password\0", 17) +
                         std::string(builder_password.size(), 'x')),
              std::string::npos)
        << shown;
    EXPECT_NE(daemon.output().find("bscd: warning: a password on the command line can be seen "
                                   "by every user (ps); use REDIS_PASSWORD or "
                                   "--redis-password-file instead"),
              std::string::npos)
        << daemon.output();
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    EXPECT_TRUE(wait_until([&] { return history() == std::vector<std::string>{"10"}; }));

    // bsc and the gateway too, in the --option=value form as well.
    Process watcher(bsc_args({"watch", "demo", "--json", "--redis-user", "viewer",
                              "--redis-password=" + viewer_password, "--timeout", "20"}));
    EXPECT_TRUE(wait_until([&] {
        return watcher.output().find("\"code\":10") != std::string::npos;
    })) << watcher.output();
    expect_no_password(command_line(watcher.pid()), "bsc's /proc/PID/cmdline");
    EXPECT_NE(watcher.output().find("bsc: warning: a password on the command line"),
              std::string::npos);
    EXPECT_EQ(exchange(socket_path(), "1000\n"), "OK\n");
    EXPECT_EQ(watcher.wait(10s), 0) << watcher.output();

    const int port = free_port();
    Process gateway =
        start_gateway(port, {"--redis-user", "viewer", "--redis-password", viewer_password});
    expect_no_password(command_line(gateway.pid()), "the gateway's /proc/PID/cmdline");
    EXPECT_NE(gateway.output().find("bscd-gateway: warning: a password on the command line"),
              std::string::npos);
    expect_no_password(daemon.output() + watcher.output() + gateway.output(), "the outputs");
}

TEST_F(RedisAclTest, PasswordFileProblemsAreUsageErrors) {
    const std::string missing = dir.file("missing.pw");
    const std::string empty = dir.write_file("empty.pw", "");
    const std::string blank_first = dir.write_file("blank.pw", "\n" + builder_password + "\n");
    const std::string good = dir.write_file("good.pw", builder_password + "\r\n");
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--redis-password-file", missing},
         "--redis-password-file: cannot read " + missing + ": No such file or directory"},
        {{"--redis-password-file", empty},
         "--redis-password-file: " + empty + " has no password on its first line"},
        {{"--redis-password-file", blank_first},
         "--redis-password-file: " + blank_first + " has no password on its first line"},
        {{"--redis-password-file", good, "--redis-password", wrong_password},
         "--redis-password excludes --redis-password-file"},
    };
    for (const auto& [args, message] : cases) {
        std::vector<std::string> check{"check-redis"};
        check.insert(check.end(), args.begin(), args.end());
        for (const auto& argv : {bscd_args(args), bsc_args(check)}) {
            const auto result = run(argv);
            EXPECT_EQ(result.status, 2) << argv[0] << ": " << message;
            EXPECT_NE(result.output.find(message), std::string::npos) << result.output;
            expect_no_password(result.output, argv[0] + "'s output");
        }
    }
    EXPECT_FALSE(fs::exists(socket_path()));
    // A CRLF line end is not part of the password.
    const auto checked =
        run(bsc_args({"check-redis", "--redis-user", "viewer", "--redis-password-file",
                      dir.write_file("viewer.pw", viewer_password + "\r\n")}));
    EXPECT_EQ(checked.status, 0) << checked.output;
}

TEST_F(RedisAclTest, ReadOnlyViewersFollowABuild) {
    auto daemon = start_builder_bscd();
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    const EnvVars viewer{{"REDIS_USER", "viewer"}, {"REDIS_PASSWORD", viewer_password}};

    EXPECT_EQ(run(bsc_args({"check-redis"}), viewer).status, 0);
    Process watcher(bsc_args({"watch", "demo", "--json", "--timeout", "20"}), viewer);
    Process live(bsc_args({"watch", "demo", "--live", "--json", "--timeout", "20"}), viewer);
    const int port = free_port();
    Process gateway = start_gateway(port, {}, viewer);
    SseClient browser(port, "/api/v1/projects/demo/events");
    ASSERT_EQ(browser.status(), 200);
    const auto first = browser.next_event();
    ASSERT_TRUE(first.has_value()) << gateway.output();
    EXPECT_NE(first->data.find("\"code\":10"), std::string::npos) << first->data;
    EXPECT_TRUE(wait_until([&] {
        return watcher.output().find("\"code\":10") != std::string::npos;
    })) << watcher.output();
    // --live sees only what comes once it has subscribed: wait for that.
    EXPECT_TRUE(wait_until([&] {
        return redis.command({"PUBSUB", "NUMSUB", "bscd-demo"}).elements.at(1).integer >= 2;
    }));

    EXPECT_EQ(exchange(socket_path(), "20\n1000\n"), "OK\nOK\n");
    const auto later = browser.events(2);
    ASSERT_EQ(later.size(), 2u) << gateway.output();
    EXPECT_NE(later[1].data.find("\"code\":1000"), std::string::npos);
    EXPECT_EQ(watcher.wait(10s), 0) << watcher.output();
    EXPECT_EQ(live.wait(10s), 0) << live.output();
    EXPECT_NE(live.output().find("\"code\":1000"), std::string::npos) << live.output();
    const auto status = run(bsc_args({"status", "demo"}), viewer);
    EXPECT_EQ(status.status, 0) << status.output;
    // The operator's list, read with the same user.
    HttpResponse builds;
    EXPECT_TRUE(wait_until([&] {
        builds = http_get(port, "/api/v1/builds");
        return builds.body.find("\"state\":\"succeeded\"") != std::string::npos;
    })) << builds.describe()
        << gateway.output();
    expect_no_password(watcher.output() + live.output() + gateway.output() + status.output,
                       "the viewers' outputs");
}

TEST_F(RedisAclTest, BscWatchLiveReportsARefusedChannel) {
    const auto start = std::chrono::steady_clock::now();
    const auto result = run(bsc_args({"watch", "demo", "--live"}),
                            {{"REDIS_USER", "outsider"}, {"REDIS_PASSWORD", viewer_password}});
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("answered SUBSCRIBE with an error: NOPERM"), std::string::npos)
        << result.output;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    expect_no_password(result.output, "bsc's output");
}

TEST_F(RedisAclTest, BscWatchReportsAnUnreadableHistory) {
    const auto result = run(bsc_args({"watch", "demo", "--timeout", "20"}),
                            {{"REDIS_USER", "outsider"}, {"REDIS_PASSWORD", viewer_password}});
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("NOPERM"), std::string::npos) << result.output;
}

// hiredis 0.14 turns a refused SUBSCRIBE into a lost link: the subscriber
// must name the refused channel and keep the others flowing.
TEST_F(RedisAclTest, ARefusedSubscriptionIsReportedAndTheOthersFlow) {
    RedisOptions options;
    options.host = redis.host();
    options.port = redis.port();
    options.user = "outsider";
    options.password = viewer_password;
    boost::asio::io_context io;
    std::vector<std::string> subscribed;
    std::vector<std::string> messages;
    std::vector<std::string> refused;
    ChannelSubscriber subscriber(
        io, options,
        {[&](const std::string& channel) { subscribed.push_back(channel); },
         [&](const std::string& channel, std::string_view payload) {
             messages.push_back(channel + " " + std::string(payload));
         }});
    subscriber.on_refused([&](const std::string& channel, const std::string& reason) {
        refused.push_back(channel + ": " + reason);
    });
    // Three SUBSCRIBEs go out together on the first link: one refusal drops
    // the link without saying which.
    subscriber.watch("bscd-open-a");
    subscriber.watch("bscd-demo");
    subscriber.watch("bscd-open-b");
    subscriber.start();
    const auto run_until = [&](const std::function<bool()>& done) {
        return wait_until([&] {
            io.run_for(10ms);
            return done();
        });
    };
    EXPECT_TRUE(run_until([&] { return subscriber.subscribed_count() == 2 && !refused.empty(); }));
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].rfind("bscd-demo: NOPERM", 0), 0u) << refused[0];
    EXPECT_TRUE(subscriber.refused("bscd-demo"));

    redis.command({"PUBLISH", "bscd-open-a", "10"});
    redis.command({"PUBLISH", "bscd-demo", "20"});
    redis.command({"PUBLISH", "bscd-open-b", "30"});
    EXPECT_TRUE(run_until([&] { return messages.size() == 2; }));
    EXPECT_EQ(messages, (std::vector<std::string>{"bscd-open-a 10", "bscd-open-b 30"}));
    // Settled: no more attempts at the refused channel, so no more lost links.
    const auto reconnects = subscriber.link_counts().reconnects;
    io.run_for(500ms);
    EXPECT_EQ(subscriber.link_counts().reconnects, reconnects);
    EXPECT_EQ(refused.size(), 1u);
    subscriber.stop();
}

// A gateway whose Redis user lacks a project's channel answers that
// project's viewers at once (503, WebSocket close 1013), those waiting when
// the refusal comes and those who come after, and serves the others.
TEST_F(RedisAclTest, TheGatewayAnswersARefusedProjectAndKeepsServingTheOthers) {
    auto open = start_builder_bscd("open");
    const int port = free_port();
    Process gateway =
        start_gateway(port, {"--redis-user", "outsider"}, {{"REDIS_PASSWORD", viewer_password}});
    SseClient allowed(port, "/api/v1/projects/open/events");
    ASSERT_EQ(allowed.status(), 200);
    EXPECT_TRUE(wait_until([&] {
        return redis.command({"PUBSUB", "NUMSUB", "bscd-open"}).elements.at(1).integer == 1;
    }));

    // The first viewer of demo makes the gateway subscribe, and waits for it.
    HttpConnection waiting(port);
    waiting.send_request("GET", "/api/v1/projects/demo/events");
    const HttpResponse refused = waiting.read_response(10s);
    ASSERT_EQ(refused.status, 503) << refused.describe() << "\n" << gateway.output();
    EXPECT_NE(refused.body.find("the gateway may not read this project's channel bscd-demo"),
              std::string::npos)
        << refused.body;
    EXPECT_TRUE(json::parse(refused.body, nullptr, false).contains("error")) << refused.body;
    const std::string retry_after = refused.header("Retry-After");
    ASSERT_FALSE(retry_after.empty()) << refused.describe();
    EXPECT_GE(std::stoi(retry_after), 1);
    EXPECT_LE(std::stoi(retry_after), 5);
    EXPECT_TRUE(waiting.wait_closed(5s));
    EXPECT_NE(gateway.output().find("refused the subscription to bscd-demo: NOPERM"),
              std::string::npos)
        << gateway.output();
    EXPECT_NE(gateway.output().find("Project demo: the gateway may not read its channel bscd-demo"),
              std::string::npos)
        << gateway.output();

    // Viewers who come now are told at once, over either transport.
    SseClient later(port, "/api/v1/projects/demo/events");
    EXPECT_EQ(later.status(), 503) << later.body();
    EXPECT_TRUE(later.wait_ended());
    WsClient socket(port, "/api/v1/projects/demo/ws");
    EXPECT_TRUE(socket.wait_closed(10s));
    EXPECT_EQ(socket.close_code(), 1013) << socket.close_error().message();
    // A WebSocket viewer waiting for another refused project is closed too.
    WsClient first(port, "/api/v1/projects/other/ws");
    EXPECT_TRUE(first.wait_closed(10s));
    EXPECT_EQ(first.close_code(), 1013) << first.close_error().message();
    EXPECT_FALSE(first.next_text(0ms).has_value());

    // The link the refusals dropped is back, with the allowed project on it.
    EXPECT_TRUE(wait_until([&] {
        return redis.command({"PUBSUB", "NUMSUB", "bscd-open"}).elements.at(1).integer == 1;
    }));
    EXPECT_EQ(exchange(socket_path("open"), "10\n"), "OK\n");
    const auto event = allowed.next_event();
    ASSERT_TRUE(event.has_value()) << gateway.output();
    EXPECT_NE(event->data.find("\"code\":10"), std::string::npos);
    EXPECT_TRUE(gateway.running());
    expect_no_password(gateway.output(), "the gateway's output");
}

// A refusal stands a few seconds (each refused SUBSCRIBE costs the gateway
// its subscription link); then the next viewer makes the gateway ask again,
// and once the ACL allows the channel, the project is served.
TEST_F(RedisAclTest, TheGatewayAsksAgainForARefusedProjectLater) {
    auto daemon = start_builder_bscd();
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    const int port = free_port();
    Process gateway =
        start_gateway(port, {"--redis-user", "outsider"}, {{"REDIS_PASSWORD", viewer_password}});
    {
        SseClient refused(port, "/api/v1/projects/demo/events");
        ASSERT_EQ(refused.status(), 503) << refused.body() << "\n" << gateway.output();
    }
    ASSERT_EQ(
        redis.command({"ACL", "SETUSER", "outsider", "&bscd-demo", "%R~bscd-demo:events"}).str,
        "OK");
    // Viewers come as a browser's would, until one is served: refused
    // (503) while the refusal stands, then the gateway asks again.
    std::unique_ptr<SseClient> viewer;
    await("a viewer of demo served", 15s, [&] {
        viewer = std::make_unique<SseClient>(port, "/api/v1/projects/demo/events");
        return viewer->status() == 200 ? std::string()
                                       : "status " + std::to_string(viewer->status());
    });
    ASSERT_EQ(viewer->status(), 200) << viewer->body() << "\n" << gateway.output();
    const auto event = viewer->next_event();
    ASSERT_TRUE(event.has_value()) << gateway.output();
    EXPECT_NE(event->data.find("\"code\":10"), std::string::npos) << event->data;
    expect_no_password(gateway.output(), "the gateway's output");
}

}  // namespace
}  // namespace bscd::test
