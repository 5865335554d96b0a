// Tests of the integration-test support library itself, against a real
// redis-server and real processes.

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "support/process.hpp"
#include "support/redis_connection.hpp"
#include "support/redis_server.hpp"
#include "support/subscriber.hpp"
#include "support/tcp_proxy.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

// Whether `fd` becomes readable within `timeout`: a bounded check that
// nothing arrives.
bool readable_within(int fd, std::chrono::milliseconds timeout) {
    pollfd pfd{fd, POLLIN, 0};
    return ::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0;
}

// Sends a command without waiting for its reply.
void send_only(redisContext* context, const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const auto& arg : args) {
        argv.push_back(arg.c_str());
        lengths.push_back(arg.size());
    }
    ASSERT_EQ(
        redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()),
        REDIS_OK);
    int done = 0;
    while (done == 0) {
        ASSERT_EQ(redisBufferWrite(context, &done), REDIS_OK) << context->errstr;
    }
}

TEST(WaitUntil, ReturnsAsSoonAsThePredicateHolds) {
    int calls = 0;
    EXPECT_TRUE(wait_until([&] { return ++calls == 3; }, 5s));
    EXPECT_EQ(calls, 3);
    EXPECT_FALSE(wait_until([] { return false; }, 20ms));
}

TEST(TempDirTest, IsCreatedShortAndRemovedWithItsContent) {
    std::string path;
    {
        TempDir dir;
        path = dir.path();
        EXPECT_LT(dir.file("redis.sock").size(), 40u);
        EXPECT_TRUE(std::filesystem::is_directory(path));
        std::filesystem::create_directory(dir.file("sub"));
        std::ofstream(dir.file("sub/f")) << "x";
    }
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ProcessTest, RunGivesStatusAndCombinedOutput) {
    const RunResult result = run({"/bin/sh", "-c", "echo hi; exit 3"});
    EXPECT_EQ(result.status, 3);
    EXPECT_EQ(result.output, "hi\n");

    const RunResult both = run({"/bin/sh", "-c", "echo out; echo err >&2"});
    EXPECT_EQ(both.status, 0);
    EXPECT_EQ(both.output, "out\nerr\n");
}

TEST(ProcessTest, EnvironmentIsAddedAndOverridden) {
    const RunResult result =
        run({"/bin/sh", "-c", "echo \"$BSCD_A-$HOME\""}, {{"BSCD_A", "added"}, {"HOME", "/over"}});
    EXPECT_EQ(result.status, 0);
    EXPECT_EQ(result.output, "added-/over\n");
}

TEST(ProcessTest, RunKillsAtTheTimeout) {
    const RunResult result = run({"/bin/sleep", "30"}, {}, 50ms);
    EXPECT_EQ(result.status, -1);
}

TEST(ProcessTest, UnknownProgramThrows) {
    EXPECT_THROW(Process({"/nonexistent/bscd-nothing"}), std::runtime_error);
}

TEST(ProcessTest, SignalGives128PlusSignal) {
    Process sleeper({"/bin/sleep", "30"});
    EXPECT_TRUE(sleeper.running());
    EXPECT_EQ(sleeper.wait(10ms), std::nullopt);
    sleeper.signal(SIGTERM);
    EXPECT_EQ(sleeper.wait(5s), 128 + SIGTERM);
    EXPECT_FALSE(sleeper.running());
    EXPECT_EQ(sleeper.exit_code(), 128 + SIGTERM);

    Process killed({"/bin/sleep", "30"});
    killed.kill();
    EXPECT_EQ(killed.exit_code(), 128 + SIGKILL);
}

TEST(ProcessTest, OutputIsReadableWhileRunningAndAfterDeath) {
    Process p({"/bin/sh", "-c", "echo ready; exec sleep 30"});
    ASSERT_TRUE(wait_until([&] { return p.output() == "ready\n"; }));
    Process moved = std::move(p);
    moved.kill();
    EXPECT_EQ(moved.output(), "ready\n");
}

TEST(ProcessTest, BinIsInThisBuildTreeUnlessTheEnvironmentChoosesAnother) {
    const char* outer = std::getenv("BSCD_TEST_BIN_DIR");
    const std::string restore = outer != nullptr ? outer : "";
    ::unsetenv("BSCD_TEST_BIN_DIR");
    EXPECT_EQ(bin("bscd"), std::string(BSCD_BIN_DIR) + "/bscd");
    ::setenv("BSCD_TEST_BIN_DIR", "/opt/sanitized/bin", 1);
    EXPECT_EQ(bin("bscd"), "/opt/sanitized/bin/bscd");
    if (outer != nullptr) {
        ::setenv("BSCD_TEST_BIN_DIR", restore.c_str(), 1);
    } else {
        ::unsetenv("BSCD_TEST_BIN_DIR");
    }
}

TEST(RedisServerTest, AnswersPingAndHasAPrivateUnixSocket) {
    RedisServer redis;
    EXPECT_EQ(redis.host(), "127.0.0.1");
    EXPECT_GT(redis.port(), 0);
    EXPECT_GT(redis.pid(), 0);
    const Reply pong = redis.command({"PING"});
    EXPECT_EQ(pong.type, Reply::Status);
    EXPECT_EQ(pong.str, "PONG");

    struct stat st {};
    ASSERT_EQ(::stat(redis.unix_socket().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    redisContext* over_unix = redisConnectUnix(redis.unix_socket().c_str());
    ASSERT_NE(over_unix, nullptr);
    ASSERT_EQ(over_unix->err, 0) << over_unix->errstr;
    EXPECT_EQ(redis_command(over_unix, {"PING"}).str, "PONG");
    redisFree(over_unix);

    // Replies convert recursively; no persistence.
    EXPECT_EQ(redis.command({"RPUSH", "l", "a", "b"}).integer, 2);
    const Reply list = redis.command({"LRANGE", "l", "0", "-1"});
    ASSERT_EQ(list.type, Reply::Array);
    ASSERT_EQ(list.elements.size(), 2u);
    EXPECT_EQ(list.elements[1].type, Reply::String);
    EXPECT_EQ(list.elements[1].str, "b");
    EXPECT_EQ(redis.command({"GET", "missing"}).type, Reply::Nil);
    EXPECT_EQ(redis.command({"NOSUCHCOMMAND"}).type, Reply::Error);
    const Reply save = redis.command({"CONFIG", "GET", "save"});
    ASSERT_EQ(save.elements.size(), 2u);
    EXPECT_EQ(save.elements[1].str, "");
    EXPECT_NE(redis.log().find("Ready to accept connections"), std::string::npos);
}

TEST(RedisServerTest, RequirepassNeedsAuth) {
    RedisServer::Options options;
    options.requirepass = "s3cret";
    RedisServer redis(options);
    EXPECT_EQ(redis.command({"PING"}).str, "PONG");  // command() authenticates

    auto anonymous = connect_redis(redis.host(), redis.port(), 1s);
    const Reply denied = redis_command(anonymous.get(), {"PING"});
    EXPECT_EQ(denied.type, Reply::Error);
    EXPECT_EQ(denied.str.rfind("NOAUTH", 0), 0u) << denied.str;
    EXPECT_THROW(connect_redis(redis.host(), redis.port(), 1s, "wrong"), std::runtime_error);
}

TEST(RedisServerTest, SubscriberReceivesPublishedMessages) {
    RedisServer redis;
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(subscriber.next(20ms), std::nullopt);  // a timeout leaves it usable
    EXPECT_EQ(redis.command({"PUBLISH", "bscd-demo", "10"}).integer, 1);
    EXPECT_EQ(subscriber.next(), "10");
    redis.command({"PUBLISH", "other", "x"});
    for (const char* code : {"20", "21", "30"}) {
        redis.command({"PUBLISH", "bscd-demo", code});
    }
    EXPECT_EQ(subscriber.collect(3), (std::vector<std::string>{"20", "21", "30"}));
    EXPECT_EQ(subscriber.collect(1, 20ms), std::vector<std::string>{});
    redis.command({"PUBLISH", "bscd-demo", "1000"});
    EXPECT_EQ(subscriber.next(), "1000");
}

TEST(RedisServerTest, SubscriberReportsALostConnection) {
    RedisServer redis;
    Subscriber subscriber(redis, "c");
    redis.kill();
    EXPECT_THROW(subscriber.next(2s), std::runtime_error);
}

TEST(RedisServerTest, StopAndStartOnTheSamePortReconnects) {
    RedisServer redis;
    const int port = redis.port();
    const std::string socket = redis.unix_socket();
    redis.command({"SET", "k", "v"});
    redis.stop();
    EXPECT_FALSE(redis.running());
    EXPECT_EQ(redis.pid(), -1);
    EXPECT_THROW(redis.command({"PING"}, 200ms), std::runtime_error);

    redis.start();
    EXPECT_TRUE(redis.running());
    EXPECT_EQ(redis.port(), port);
    EXPECT_EQ(redis.unix_socket(), socket);
    EXPECT_EQ(redis.command({"PING"}).str, "PONG");
    EXPECT_EQ(redis.command({"GET", "k"}).type, Reply::Nil);  // no persistence

    redis.kill();
    redis.start();
    EXPECT_EQ(redis.command({"PING"}).str, "PONG");
}

TEST(RedisServerTest, StartOnATakenPortFailsWithTheLog) {
    RedisServer redis;
    redis.stop();
    // Someone else takes the port while the server is down.
    const int taker = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(taker, 0);
    const int one = 1;
    ::setsockopt(taker, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(redis.port()));
    ASSERT_EQ(::bind(taker, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(taker, 1), 0);
    try {
        redis.start();
        ADD_FAILURE() << "start() on a taken port succeeded";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("Address already in use"), std::string::npos)
            << error.what();
    }
    EXPECT_FALSE(redis.running());
    ::close(taker);
    redis.start();
    EXPECT_EQ(redis.command({"PING"}).str, "PONG");
}

TEST(RedisServerTest, CommandReconnectsAfterTheServerClosedTheConnection) {
    RedisServer redis;
    EXPECT_EQ(redis.command({"CLIENT", "SETNAME", "victim"}).str, "OK");
    redis.command({"CLIENT", "KILL", "SKIPME", "no"});  // kills our own connection
    EXPECT_TRUE(wait_until([&] {
        try {
            return redis.command({"PING"}).str == "PONG";
        } catch (const std::runtime_error&) {
            return false;
        }
    }));
}

TEST(RedisServerTest, PauseStopsAnswersUntilResume) {
    RedisServer redis;
    redis.pause();
    {
        auto fresh = connect_redis(redis.host(), redis.port(), 200ms);  // kernel accepts
        EXPECT_THROW(redis_command(fresh.get(), {"PING"}), std::runtime_error);
    }
    redis.resume();
    auto fresh = connect_redis(redis.host(), redis.port(), 2s);
    EXPECT_EQ(redis_command(fresh.get(), {"PING"}).str, "PONG");
}

TEST(TcpProxyTest, ForwardsCutsAndRestores) {
    RedisServer redis;
    TcpProxy proxy(redis.host(), redis.port());
    EXPECT_NE(proxy.port(), redis.port());

    auto client = connect_redis("127.0.0.1", proxy.port(), 2s);
    EXPECT_EQ(redis_command(client.get(), {"PING"}).str, "PONG");
    EXPECT_EQ(proxy.connections(), 1u);
    EXPECT_EQ(proxy.accepted(), 1u);

    proxy.cut();
    EXPECT_EQ(proxy.connections(), 0u);
    EXPECT_THROW(redis_command(client.get(), {"PING"}), std::runtime_error);

    // Refused while cut: accepted by the kernel, closed by the proxy.
    try {
        auto refused = connect_redis("127.0.0.1", proxy.port(), 2s);
        EXPECT_THROW(redis_command(refused.get(), {"PING"}), std::runtime_error);
    } catch (const std::runtime_error&) {
        // closed before the connection completed: refused as well
    }
    EXPECT_TRUE(wait_until([&] { return proxy.accepted() == 2u; }));
    EXPECT_EQ(proxy.connections(), 0u);

    proxy.restore();
    auto again = connect_redis("127.0.0.1", proxy.port(), 2s);
    EXPECT_EQ(redis_command(again.get(), {"PING"}).str, "PONG");
    EXPECT_EQ(proxy.connections(), 1u);

    again.reset();  // a client that leaves is forgotten
    EXPECT_TRUE(wait_until([&] { return proxy.connections() == 0u; }));
}

TEST(TcpProxyTest, HeldReplyIsExecutedButNotDeliveredThenCut) {
    RedisServer redis;
    TcpProxy proxy(redis.host(), redis.port());
    auto client = connect_redis("127.0.0.1", proxy.port(), 2s);

    proxy.hold_replies(true);
    send_only(client.get(), {"SET", "held", "yes"});
    ASSERT_TRUE(wait_until([&] { return redis.command({"GET", "held"}).str == "yes"; }));
    EXPECT_FALSE(readable_within(client->fd, 50ms));  // the +OK is held by the proxy

    proxy.cut();
    void* reply = nullptr;
    EXPECT_EQ(redisGetReply(client.get(), &reply), REDIS_ERR);  // EOF, never the +OK
    EXPECT_EQ(reply, nullptr);
}

TEST(TcpProxyTest, HeldRepliesAreDeliveredWhenReleased) {
    RedisServer redis;
    TcpProxy proxy(redis.host(), redis.port());
    auto client = connect_redis("127.0.0.1", proxy.port(), 2s);

    proxy.hold_replies(true);
    send_only(client.get(), {"INCR", "n"});
    send_only(client.get(), {"INCR", "n"});
    ASSERT_TRUE(wait_until([&] { return redis.command({"GET", "n"}).str == "2"; }));
    EXPECT_FALSE(readable_within(client->fd, 50ms));
    EXPECT_FALSE(proxy.all_answered());

    proxy.hold_replies(false);
    EXPECT_TRUE(wait_until([&] { return proxy.all_answered(); }));
    for (long long expected : {1LL, 2LL}) {
        void* raw = nullptr;
        ASSERT_EQ(redisGetReply(client.get(), &raw), REDIS_OK) << client->errstr;
        const Reply reply = to_reply(raw);
        freeReplyObject(raw);
        EXPECT_EQ(reply.integer, expected);
    }
}

TEST(TcpProxyTest, UpstreamDownClosesTheClient) {
    RedisServer redis;
    TcpProxy proxy(redis.host(), redis.port());
    auto client = connect_redis("127.0.0.1", proxy.port(), 2s);
    EXPECT_EQ(redis_command(client.get(), {"PING"}).str, "PONG");
    redis.stop();
    EXPECT_THROW(redis_command(client.get(), {"PING"}), std::runtime_error);
    EXPECT_TRUE(wait_until([&] { return proxy.connections() == 0u; }));
}

}  // namespace
}  // namespace bscd::test
