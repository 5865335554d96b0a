// bsc, the client, run as a real process. Until bscd exists its peer is a
// small scripted Unix-socket server in this file (it stands for bscd, not for
// Redis); check-redis runs against a real redis-server.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <mutex>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "support/free_port.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What the peer does with one request line.
struct Answer {
    enum Kind { Reply, Silent, Close };
    Kind kind = Reply;
    std::string text;  // Reply: the line sent back, without "\n"

    static Answer reply(std::string line) { return {Reply, std::move(line)}; }
    static Answer silent() { return {Silent, {}}; }
    static Answer close() { return {Close, {}}; }
};

// Stands in for bscd: listens on a Unix socket, serves one connection at a
// time, answers each line it receives as the script says, and records every
// byte each connection sent.
class ScriptedPeer {
public:
    using Script = std::function<Answer(const std::string& line)>;

    ScriptedPeer(std::string path, Script script)
        : path_(std::move(path)), script_(std::move(script)) {
        listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (listen_fd_ < 0 || path_.size() >= sizeof address.sun_path) {
            throw std::runtime_error("cannot create a socket for " + path_);
        }
        std::memcpy(address.sun_path, path_.c_str(), path_.size());
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listen_fd_, 16) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
            const std::string error = std::strerror(errno);
            ::close(listen_fd_);
            throw std::runtime_error("cannot listen on " + path_ + ": " + error);
        }
        thread_ = std::thread([this] { serve(); });
    }

    ~ScriptedPeer() {
        stop_ = true;
        [[maybe_unused]] const auto written = ::write(wake_[1], "x", 1);
        thread_.join();
        ::close(listen_fd_);
        ::close(wake_[0]);
        ::close(wake_[1]);
        ::unlink(path_.c_str());
    }

    ScriptedPeer(const ScriptedPeer&) = delete;
    ScriptedPeer& operator=(const ScriptedPeer&) = delete;

    // The bytes of each connection the client has closed, in order.
    std::vector<std::string> received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }

    // Waits until `count` connections have been closed by the client.
    std::vector<std::string> wait_for_connections(std::size_t count) const {
        wait_until([&] { return received().size() >= count; }, 5s);
        return received();
    }

private:
    // Waits for `fd` to be readable; false when the peer is being stopped.
    bool wait_readable(int fd) const {
        pollfd fds[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
        while (!stop_) {
            const int ready = ::poll(fds, 2, -1);
            if (ready < 0 && errno == EINTR) {
                continue;
            }
            return ready > 0 && (fds[1].revents & POLLIN) == 0;
        }
        return false;
    }

    void serve() {
        while (wait_readable(listen_fd_)) {
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) {
                serve_connection(fd);
                ::close(fd);
            }
        }
    }

    void serve_connection(int fd) {
        std::string bytes;
        std::size_t line_start = 0;
        bool open = true;
        while (open && wait_readable(fd)) {
            char chunk[4096];
            const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                break;
            }
            bytes.append(chunk, static_cast<std::size_t>(n));
            for (std::size_t end; open && (end = bytes.find('\n', line_start)) != std::string::npos;
                 line_start = end + 1) {
                const Answer answer = script_(bytes.substr(line_start, end - line_start));
                if (answer.kind == Answer::Reply) {
                    const std::string line = answer.text + "\n";
                    [[maybe_unused]] const auto sent =
                        ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
                } else if (answer.kind == Answer::Close) {
                    open = false;
                }
            }
        }
        std::lock_guard lock(mutex_);
        received_.push_back(bytes);
    }

    std::string path_;
    Script script_;
    int listen_fd_ = -1;
    int wake_[2] = {-1, -1};
    std::atomic<bool> stop_ = false;
    mutable std::mutex mutex_;
    std::vector<std::string> received_;
    std::thread thread_;
};

Answer always_ok(const std::string& /*line*/) {
    return Answer::reply("OK");
}

// OK for anything but "99", which bscd's catalog does not know.
Answer like_bscd(const std::string& line) {
    return line == "99" ? Answer::reply("ERR unknown code 99") : Answer::reply("OK");
}

std::string bsc() {
    return bin("bsc");
}

// The one line bsc prints when it fails.
std::string failure_line(const std::string& message) {
    return "bsc: " + message + "\n";
}

class BscTest : public ::testing::Test {
protected:
    TempDir dir_;
    std::string socket_ = dir_.file("bscd.sock");
};

TEST_F(BscTest, LegacyFormSendsTheRequestWithANewlineAndExitsZeroOnOk) {
    ScriptedPeer peer(socket_, always_ok);
    const RunResult result = run({bsc(), "-a", socket_, "10"});
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_EQ(result.output, "");
    EXPECT_EQ(peer.wait_for_connections(1), std::vector<std::string>{"10\n"});
}

TEST_F(BscTest, LegacyFormAcceptsPiemansCommandLine) {
    ScriptedPeer peer(socket_, always_ok);
    // As Pieman's scripts call bsc.py; -H and -P are accepted and ignored.
    const RunResult result =
        run({bsc(), "--unix-socket-name", socket_, "-H", "127.0.0.1", "-P", "6379", "SYNCED_CODE"});
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_EQ(peer.wait_for_connections(1), std::vector<std::string>{"SYNCED_CODE\n"});
}

TEST_F(BscTest, ExitIsSentLikeAnyOtherRequest) {
    ScriptedPeer peer(socket_, always_ok);
    const RunResult result = run({bsc(), "-a", socket_, "EXIT"});
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_EQ(peer.wait_for_connections(1), std::vector<std::string>{"EXIT\n"});
}

TEST_F(BscTest, ErrAnswerExitsOneWithTheReason) {
    ScriptedPeer peer(socket_, like_bscd);
    const RunResult result = run({bsc(), "-a", socket_, "99"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output, failure_line("bscd answered ERR unknown code 99 to request 99"));
}

TEST_F(BscTest, NoAnswerTimesOutWithinTheGivenTimeout) {
    ScriptedPeer peer(socket_, [](const std::string&) { return Answer::silent(); });
    const auto start = Clock::now();
    const RunResult result = run({bsc(), "-a", socket_, "--timeout", "0.3", "10"});
    const auto elapsed = Clock::now() - start;
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output, failure_line("no answer from bscd within 0.3 s"));
    EXPECT_GE(elapsed, 300ms);
    EXPECT_LT(elapsed, 3s);
}

TEST_F(BscTest, ConnectionClosedBeforeTheAnswerIsAFailure) {
    ScriptedPeer peer(socket_, [](const std::string&) { return Answer::close(); });
    const RunResult result = run({bsc(), "-a", socket_, "10"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output, failure_line("bscd closed the connection before answering"));
}

TEST_F(BscTest, UnexpectedAnswerIsAFailure) {
    ScriptedPeer peer(socket_, [](const std::string&) { return Answer::reply("HELLO"); });
    const RunResult result = run({bsc(), "-a", socket_, "10"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output, failure_line("unexpected answer from bscd to request 10: HELLO"));
}

TEST_F(BscTest, MissingSocketDoesNotExist) {
    const RunResult result = run({bsc(), "-a", socket_, "10"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output, failure_line(socket_ + " does not exist"));
}

TEST_F(BscTest, SocketWithoutListenerIsConnectionRefused) {
    // What a crashed bscd leaves behind: the socket file, nobody listening.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, socket_.c_str(), socket_.size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ::close(fd);

    const RunResult result = run({bsc(), "-a", socket_, "10"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output.rfind("bsc: connection refused: " + socket_, 0), 0u) << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1);
}

TEST_F(BscTest, SendWritesAllRequestsOverOneConnection) {
    ScriptedPeer peer(socket_, always_ok);
    const RunResult result = run({bsc(), "send", "-a", socket_, "a", "b", "c"});
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_EQ(result.output, "");
    EXPECT_EQ(peer.wait_for_connections(1), std::vector<std::string>{"a\nb\nc\n"});
}

TEST_F(BscTest, SendNeedsAnAnswerToEveryRequest) {
    int answered = 0;
    ScriptedPeer peer(socket_, [&](const std::string&) {
        return ++answered <= 2 ? Answer::reply("OK") : Answer::silent();
    });
    const RunResult result = run({bsc(), "send", "--timeout", "0.3", "-a", socket_, "a", "b", "c"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output, failure_line("no answer from bscd within 0.3 s to request c"));
}

TEST_F(BscTest, SendFailsWhenAnyRequestIsRefused) {
    ScriptedPeer peer(socket_, like_bscd);
    const RunResult result = run({bsc(), "send", "-a", socket_, "10", "99", "20", "99"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output, failure_line("bscd answered ERR unknown code 99 to request 99 "
                                          "(2 of 4 requests failed)"));
    EXPECT_EQ(peer.wait_for_connections(1), std::vector<std::string>{"10\n99\n20\n99\n"});
}

TEST_F(BscTest, PeerClosingDuringALargeWriteDoesNotKillBscWithSigpipe) {
    ScriptedPeer peer(socket_, [](const std::string&) { return Answer::close(); });
    std::vector<std::string> argv{bsc(), "send", "-a", socket_};
    argv.insert(argv.end(), 2000, std::string(200, 'A'));  // 400 KB, more than a socket buffer
    const RunResult result = run(argv);
    EXPECT_EQ(result.status, 1) << "128 + 13 would be SIGPIPE";
    EXPECT_EQ(result.output.rfind("bsc: bscd closed the connection before answering", 0), 0u)
        << result.output;
}

TEST_F(BscTest, ProjectSelectsItsSocketInTheRuntimeDirectory) {
    // bscd's runtime directory: /var/run for root, else $XDG_RUNTIME_DIR.
    const std::string project = "bsc-test-" + std::to_string(::getpid());
    const std::string runtime_dir = ::geteuid() == 0 ? "/var/run" : dir_.path();
    const std::string expected = runtime_dir + "/bscd-" + project + ".sock";
    const EnvVars env{{"XDG_RUNTIME_DIR", dir_.path()}, {"PROJECT_NAME", ""}};

    const RunResult missing = run({bsc(), "send", "--project", project, "10"}, env);
    EXPECT_EQ(missing.status, 1);
    EXPECT_EQ(missing.output, failure_line(expected + " does not exist"));

    ScriptedPeer peer(expected, always_ok);
    const RunResult send = run({bsc(), "send", "--project", project, "10"}, env);
    EXPECT_EQ(send.status, 0) << send.output;
    const RunResult legacy = run({bsc(), "--project", project, "20"}, env);
    EXPECT_EQ(legacy.status, 0) << legacy.output;
    EXPECT_EQ(peer.wait_for_connections(2), (std::vector<std::string>{"10\n", "20\n"}));
}

TEST_F(BscTest, ProjectNameComesFromTheEnvironmentUnlessASocketIsGiven) {
    const std::string project = "bsc-env-" + std::to_string(::getpid());
    const std::string runtime_dir = ::geteuid() == 0 ? "/var/run" : dir_.path();
    const EnvVars env{{"XDG_RUNTIME_DIR", dir_.path()}, {"PROJECT_NAME", project}};

    ScriptedPeer project_peer(runtime_dir + "/bscd-" + project + ".sock", always_ok);
    ScriptedPeer explicit_peer(socket_, always_ok);
    EXPECT_EQ(run({bsc(), "30"}, env).status, 0);
    EXPECT_EQ(run({bsc(), "-a", socket_, "31"}, env).status, 0);
    EXPECT_EQ(project_peer.wait_for_connections(1), std::vector<std::string>{"30\n"});
    EXPECT_EQ(explicit_peer.wait_for_connections(1), std::vector<std::string>{"31\n"});
}

TEST_F(BscTest, WithoutProjectTheSocketIsPiemansDefault) {
    const std::string runtime_dir = ::geteuid() == 0 ? "/var/run" : dir_.path();
    const RunResult result =
        run({bsc(), "send", "10"}, {{"XDG_RUNTIME_DIR", dir_.path()}, {"PROJECT_NAME", ""}});
    if (result.status == 0) {
        GTEST_SKIP() << "a bscd is listening on " << runtime_dir << "/bscd.sock";
    }
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output, failure_line(runtime_dir + "/bscd.sock does not exist"));
}

TEST_F(BscTest, UsageErrorsExitTwo) {
    EXPECT_EQ(run({bsc()}).status, 2);                             // no request
    EXPECT_EQ(run({bsc(), "-a", socket_, "10", "20"}).status, 2);  // two requests
    EXPECT_EQ(run({bsc(), "send", "-a", socket_}).status, 2);      // no request
    EXPECT_EQ(run({bsc(), "-a", socket_, "--timeout", "0", "10"}).status, 2);
    EXPECT_EQ(run({bsc(), "-a", socket_, "--timeout", "nan", "10"}).status, 2);
    EXPECT_EQ(run({bsc(), "send", "-a", socket_, "--project", "p", "10"}).status, 2);
    EXPECT_EQ(run({bsc(), "send", "--project", "../etc", "10"}).status, 2);
    EXPECT_EQ(run({bsc(), "send", "-a", socket_, "10\n20"}).status, 2);
    EXPECT_EQ(run({bsc(), "check-redis", "-P", "0"}).status, 2);
    EXPECT_EQ(run({bsc(), "10"}, {{"PROJECT_NAME", "a/b"}}).status, 2);
}

TEST_F(BscTest, HelpListsTheSubcommandsAndVersionPrintsIt) {
    const RunResult help = run({bsc(), "--help"});
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.output.find("send"), std::string::npos) << help.output;
    EXPECT_NE(help.output.find("check-redis"), std::string::npos) << help.output;
    EXPECT_EQ(run({bsc(), "send", "--help"}).status, 0);
    EXPECT_EQ(run({bsc(), "check-redis", "--help"}).status, 0);

    const RunResult version = run({bsc(), "--version"});
    EXPECT_EQ(version.status, 0);
    EXPECT_EQ(version.output.rfind("bsc ", 0), 0u) << version.output;
}

TEST(BscCheckRedis, SucceedsWhenRedisAnswersPing) {
    RedisServer redis;
    const RunResult tcp =
        run({bin("bsc"), "check-redis", "-H", redis.host(), "-P", std::to_string(redis.port())});
    EXPECT_EQ(tcp.status, 0) << tcp.output;
    EXPECT_EQ(tcp.output, "");
    const RunResult unix_socket =
        run({bin("bsc"), "check-redis", "--redis-socket", redis.unix_socket(), "--redis-db", "3"});
    EXPECT_EQ(unix_socket.status, 0) << unix_socket.output;
    // Pieman's environment variables work as defaults.
    const RunResult env =
        run({bin("bsc"), "check-redis"}, {{"REDIS_HOST", redis.host()},
                                          {"REDIS_PORT", std::to_string(redis.port())},
                                          {"REDIS_PASSWORD", ""}});
    EXPECT_EQ(env.status, 0) << env.output;
}

TEST(BscCheckRedis, FailsOnAClosedPort) {
    const int port = free_port();
    const RunResult result = run({bin("bsc"), "check-redis", "-P", std::to_string(port)});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.output, "bsc: Could not connect to Redis at 127.0.0.1:" +
                                 std::to_string(port) + ": Connection refused\n");
}

TEST(BscCheckRedis, FailsOnceRedisStopped) {
    RedisServer redis;
    redis.stop();
    const RunResult result =
        run({bin("bsc"), "check-redis", "-H", redis.host(), "-P", std::to_string(redis.port())});
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.output.find("Connection refused"), std::string::npos) << result.output;
}

TEST(BscCheckRedis, AuthenticatesWithThePassword) {
    RedisServer::Options options;
    options.requirepass = "s3cret";
    RedisServer redis(options);
    const std::vector<std::string> argv{bin("bsc"), "check-redis", "-P",
                                        std::to_string(redis.port())};
    const RunResult without = run(argv, {{"REDIS_PASSWORD", ""}});
    EXPECT_EQ(without.status, 1);
    EXPECT_NE(without.output.find("NOAUTH"), std::string::npos) << without.output;
    const RunResult wrong = run(argv, {{"REDIS_PASSWORD", "not-the-password"}});
    EXPECT_EQ(wrong.status, 1);
    EXPECT_NE(wrong.output.find("refused the password"), std::string::npos) << wrong.output;
    EXPECT_EQ(wrong.output.find("not-the-password"), std::string::npos) << "password leaked";
    const RunResult right = run(argv, {{"REDIS_PASSWORD", "s3cret"}});
    EXPECT_EQ(right.status, 0) << right.output;
}

TEST(BscCheckRedis, TimesOutWhenRedisDoesNotAnswer) {
    RedisServer redis;
    redis.pause();
    const auto start = Clock::now();
    const RunResult result =
        run({bin("bsc"), "check-redis", "-P", std::to_string(redis.port()), "--timeout", "0.3"});
    const auto elapsed = Clock::now() - start;
    redis.resume();
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.output.find("no reply within 300 ms"), std::string::npos) << result.output;
    EXPECT_LT(elapsed, 3s);
}

}  // namespace
}  // namespace bscd::test
