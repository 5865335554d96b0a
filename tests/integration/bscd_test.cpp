// bscd against a real redis-server: what a Pieman consumer sees on the
// channel, and how the daemon behaves at start, under bad input and on exit.

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include "core/project.hpp"
#include "core/request.hpp"
#include "support/bscd_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/serving_programs.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::vector<std::string> all_codes{"10", "20", "21", "30", "31", "32", "33",   "40",
                                         "50", "60", "70", "80", "81", "82", "1000", "1001"};

TEST_F(BscdTest, AllSixteenCodesReachASubscriberInOrder) {
    auto daemon = start_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    std::string requests;
    for (const auto& code : all_codes) {
        requests += code + "\n";
    }
    std::string replies;
    for (std::size_t i = 0; i < all_codes.size(); ++i) {
        replies += "OK\n";
    }
    EXPECT_EQ(exchange(socket_path(), requests), replies);
    EXPECT_EQ(subscriber.collect(16), all_codes);
    EXPECT_EQ(history(), all_codes);
}

TEST_F(BscdTest, CodeNamesArePublishedAsTheirValues) {
    auto daemon = start_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "PREPARED_CHROOT_ENV_CODE\nSYNCED_CODE\n"), "OK\nOK\n");
    EXPECT_EQ(subscriber.collect(2), (std::vector<std::string>{"10", "82"}));
}

TEST_F(BscdTest, PiemanRequestShapeWithoutNewlineThenClose) {
    auto daemon = start_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    for (const char* code : {"10", "20", "21"}) {
        ProducerClient client(socket_path());
        client.write(code);  // Pieman's bsc.py: send, close, never read
    }
    EXPECT_EQ(subscriber.collect(3), (std::vector<std::string>{"10", "20", "21"}));
}

TEST_F(BscdTest, SeveralRequestsInOneWriteAreAnsweredInOrder) {
    auto daemon = start_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    ProducerClient client(socket_path());
    client.write("30\n31\nBOGUS\n32\n");
    EXPECT_EQ(client.read_lines(4), "OK\nOK\nERR unknown code name BOGUS\nOK\n");
    EXPECT_EQ(subscriber.collect(3), (std::vector<std::string>{"30", "31", "32"}));
}

TEST_F(BscdTest, SilentConnectionsDelayNobody) {
    auto daemon = start_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    ProducerClient silent(socket_path());
    ProducerClient half_line(socket_path());
    half_line.write("1");  // a request begun and never finished
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(exchange(socket_path(), "40\n"), "OK\n");
    EXPECT_EQ(subscriber.next(), "40");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(BscdTest, TwoHundredClientsAtOnceEveryCodeDelivered) {
    auto daemon = start_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    std::vector<std::unique_ptr<ProducerClient>> clients;
    clients.reserve(200);
    for (int i = 0; i < 200; ++i) {
        clients.push_back(std::make_unique<ProducerClient>(socket_path()));
    }
    for (std::size_t i = 0; i < clients.size(); ++i) {
        clients[i]->write(all_codes[i % all_codes.size()] + "\n");
    }
    for (auto& client : clients) {
        EXPECT_EQ(client->read_lines(1), "OK\n");
    }
    const auto received = subscriber.collect(200, 10s);
    ASSERT_EQ(received.size(), 200u);
    std::map<std::string, int> counts;
    for (const auto& code : received) {
        ++counts[code];
    }
    for (std::size_t i = 0; i < all_codes.size(); ++i) {
        const int expected =
            static_cast<int>(200 / all_codes.size()) + (i < 200 % all_codes.size() ? 1 : 0);
        EXPECT_EQ(counts[all_codes[i]], expected) << all_codes[i];
    }
    EXPECT_EQ(history().size(), 200u);
}

TEST_F(BscdTest, BadInputIsRefusedAndChangesNothing) {
    auto daemon = start_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    const std::vector<std::pair<std::string, std::string>> cases{
        {"\n", "ERR empty request\n"},
        {" 10\n", "ERR not a request:  10\n"},
        {"10 \n", "ERR not a request: 10 \n"},
        {std::string(10'000, '7') + "\n", "ERR request too long\n"},
        {std::string("1\0"
                     "0\n",
                     4),
         "ERR not a request: 1\\x000\n"},
        {"\xff\xfe\x01\x80\n", "ERR not a request: \\xff\\xfe\\x01\\x80\n"},
        {"99\n", "ERR unknown code 99\n"},
        {"-1\n", "ERR not a request: -1\n"},
        {"99999999999\n", "ERR unknown code 99999999999\n"},
        {"exit\n", "ERR unknown code name exit\n"},
    };
    for (const auto& [request, reply] : cases) {
        EXPECT_EQ(exchange(socket_path(), request), reply) << printable(request);
    }
    EXPECT_TRUE(daemon->running());
    // The sentinel: had bad input published something, it would come first.
    EXPECT_EQ(exchange(socket_path(), "50\n"), "OK\n");
    EXPECT_EQ(subscriber.next(), "50") << "bad input published something";
    EXPECT_EQ(history(), std::vector<std::string>{"50"});
}

TEST_F(BscdTest, RandomBinaryNeverCrashesTheDaemon) {
    auto daemon = start_bscd();
    std::mt19937 random(42);
    for (int round = 0; round < 50; ++round) {
        std::string junk(1 + random() % 600, '\0');
        for (char& c : junk) {
            c = static_cast<char>(random() % 256);
        }
        const std::string replies = exchange(socket_path(), junk);
        for (std::size_t at = 0; at < replies.size();) {
            const auto end = replies.find('\n', at);
            ASSERT_NE(end, std::string::npos);
            const std::string line = replies.substr(at, end - at);
            EXPECT_TRUE(line == "OK" || line.rfind("ERR ", 0) == 0) << line;
            at = end + 1;
        }
    }
    EXPECT_TRUE(daemon->running());
    EXPECT_EQ(exchange(socket_path(), "60\n"), "OK\n");
}

TEST_F(BscdTest, ExitRemovesSocketAndPidFileAndExitsZero) {
    auto daemon = start_bscd();
    EXPECT_EQ(exchange(socket_path(), "10\nEXIT\n"), "OK\nOK\n");
    // Answered only once the daemon is done: the files are already gone.
    EXPECT_FALSE(fs::exists(pid_file()));
    EXPECT_FALSE(fs::exists(socket_path()));
    EXPECT_EQ(daemon->wait(5s), 0);
    EXPECT_EQ(history(), std::vector<std::string>{"10"});
}

TEST_F(BscdTest, RequestsAfterExitInTheSameWriteAreAnsweredNotPublished) {
    auto daemon = start_bscd();
    // One reply per request, in order: the EXIT's once bscd is done, then
    // one for each request it no longer handles.
    EXPECT_EQ(exchange(socket_path(), "10\nEXIT\n20\n21\n"),
              "OK\nOK\nERR shutting down\nERR shutting down\n");
    EXPECT_EQ(daemon->wait(5s), 0) << daemon->output();
    EXPECT_EQ(history(), std::vector<std::string>{"10"});
}

TEST_F(BscdTest, PiemanExitWithoutNewline) {
    auto daemon = start_bscd();
    {
        ProducerClient client(socket_path());
        client.write("EXIT");
    }
    EXPECT_EQ(daemon->wait(5s), 0);
    EXPECT_FALSE(fs::exists(pid_file()));
    EXPECT_FALSE(fs::exists(socket_path()));
}

TEST_F(BscdTest, PeerThatNeverReadsDoesNotHoldUpShutdown) {
    auto daemon = start_bscd();
    ProducerClient greedy(socket_path());
    // Requests until bscd stops reading them: its replies fill the socket,
    // unread, and its write to this peer cannot complete.
    const std::string burst = [] {
        std::string text;
        for (int i = 0; i < 4096; ++i) {
            text += "10\n";
        }
        return text;
    }();
    // Until bscd stops draining the socket: no room for half a second.
    std::size_t written = 0;
    while (greedy.wait_writable(500ms) && written < std::size_t{64} * 1024 * 1024) {
        written += greedy.write_nonblocking(burst);
    }
    ASSERT_LT(written, 64u * 1024 * 1024) << "bscd kept reading";
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(exchange(socket_path(), "EXIT\n"), "OK\n");
    EXPECT_EQ(daemon->wait(10s), 0) << daemon->output();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_NE(daemon->output().find("Closing 1 connections that did not take their last replies"),
              std::string::npos);
    EXPECT_FALSE(fs::exists(socket_path()));
}

TEST_F(BscdTest, SigtermShutsDownGracefully) {
    auto daemon = start_bscd();
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    daemon->signal(SIGTERM);
    EXPECT_EQ(daemon->wait(5s), 0) << daemon->output();
    EXPECT_FALSE(fs::exists(pid_file()));
    EXPECT_FALSE(fs::exists(socket_path()));
    EXPECT_NE(daemon->output().find("Every accepted code reached Redis (1 in all)"),
              std::string::npos)
        << daemon->output();
}

class PiemanFlagsTest : public BscdTest {
protected:
    // bscd with Pieman's flags (no --project) in `dir`, in the foreground.
    std::vector<std::string> piemans_flags(const std::string& name,
                                           const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> args{bin("bscd"),
                                      "-a",
                                      dir.file(name + ".sock"),
                                      "-n",
                                      "bscd-" + name,
                                      "--runtime-dir",
                                      dir.path(),
                                      "-H",
                                      redis.host(),
                                      "-P",
                                      std::to_string(redis.port())};
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }
};

// Whether a code sent on `socket` is answered OK (false while nobody listens).
bool serves(const std::string& socket) {
    try {
        return test::exchange(socket, "10\n") == "OK\n";  // not std::exchange (ADL)
    } catch (const std::exception&) {
        return false;
    }
}

TEST_F(PiemanFlagsTest, TwoForegroundDaemonsRunSideBySide) {
    const EnvVars no_project{{"PROJECT_NAME", ""}};
    Process first(piemans_flags("one"), no_project);
    Process second(piemans_flags("two"), no_project);
    ASSERT_TRUE(wait_until([&] { return serves(dir.file("one.sock")) || !first.running(); }))
        << first.output();
    ASSERT_TRUE(wait_until([&] { return serves(dir.file("two.sock")) || !second.running(); }))
        << second.output();
    EXPECT_TRUE(first.running()) << first.output();
    EXPECT_TRUE(second.running()) << second.output();
    // As Pieman's bscd.py in the foreground: no pid file, not even Pieman's default.
    EXPECT_FALSE(fs::exists(dir.file("bscd.pid")));
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2)
        << "only the two sockets";
    // "OK" is the code accepted; it reaches Redis a moment later.
    EXPECT_TRUE(wait_until([&] { return history("bscd-one") == std::vector<std::string>{"10"}; }))
        << first.output();
    EXPECT_TRUE(wait_until([&] { return history("bscd-two") == std::vector<std::string>{"10"}; }))
        << second.output();
    EXPECT_EQ(exchange(dir.file("one.sock"), "EXIT\n"), "OK\n");
    EXPECT_EQ(exchange(dir.file("two.sock"), "EXIT\n"), "OK\n");
    EXPECT_EQ(first.wait(5s), 0) << first.output();
    EXPECT_EQ(second.wait(5s), 0) << second.output();
}

TEST_F(PiemanFlagsTest, AnExplicitPidFileIsWrittenInTheForeground) {
    const std::string pid_path = dir.file("b.pid");
    auto daemon = start_serving_bscd(piemans_flags("one", {"-p", pid_path}), pid_path);
    EXPECT_TRUE(holds_own_pid(*daemon, pid_path));
    EXPECT_EQ(exchange(dir.file("one.sock"), "EXIT\n"), "OK\n");
    EXPECT_EQ(daemon->wait(5s), 0) << daemon->output();
    EXPECT_FALSE(fs::exists(pid_path));
}

TEST_F(BscdTest, StaleSocketIsReplaced) {
    {  // a socket file nobody listens on, as a crashed daemon leaves it
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, socket_path().c_str(), sizeof(address.sun_path) - 1);
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
        ::close(fd);
    }
    ASSERT_TRUE(fs::exists(socket_path()));
    auto daemon = start_bscd();
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    EXPECT_NE(daemon->output().find("Removed stale socket"), std::string::npos);
}

TEST_F(BscdTest, LiveSocketIsRefused) {
    auto first = start_bscd();
    const auto second = run(bscd_args());
    EXPECT_EQ(second.status, 1);
    EXPECT_NE(second.output.find("Address already in use"), std::string::npos) << second.output;
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n") << "the first daemon must keep serving";
}

TEST_F(BscdTest, RedisUnreachableAtStart) {
    const int port = redis.port();
    redis.stop();
    const auto result = run(bscd_args());
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.output.find("Could not connect to Redis"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(std::to_string(port)), std::string::npos);
    EXPECT_FALSE(fs::exists(socket_path()));
    EXPECT_FALSE(fs::exists(pid_file()));
}

TEST_F(BscdTest, MissingDirectoryIsAClearError) {
    const auto result = run(bscd_args({"-a", dir.file("no/such/dir/bscd.sock")}));
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.output.find("is not writable for the process"), std::string::npos)
        << result.output;
}

TEST_F(BscdTest, MalformedCodesFileNamesTheLine) {
    const std::string codes = dir.file("codes");
    std::ofstream(codes) << "# custom codes\nSTARTED_CODE=1\nBROKEN_CODE=1x\n";
    const auto result = run(bscd_args({"--codes", codes}));
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.output.find(codes + ":3:"), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(socket_path()));
}

TEST_F(BscdTest, CustomCodesFileReplacesTheCatalog) {
    const std::string codes = dir.file("codes");
    std::ofstream(codes) << "STARTED_CODE=1  # started\nSUCCESSFUL_CODE=1000\n";
    auto daemon = start_bscd({"--codes", codes});
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "STARTED_CODE\n10\n"), "OK\nERR unknown code 10\n");
    EXPECT_EQ(subscriber.next(), "1");
}

TEST_F(BscdTest, DaemonizeReturnsOnceServingAndPidFileFollowsTheDaemon) {
    const auto started = run(bscd_args({"--daemonize", "-l", dir.file("bscd.log")}));
    ASSERT_EQ(started.status, 0) << started.output;
    // No polling: the pid file and the socket exist when the command returns.
    ASSERT_TRUE(fs::exists(pid_file()));
    ASSERT_TRUE(fs::exists(socket_path()));
    std::string pid_text;
    std::ifstream(pid_file()) >> pid_text;
    const pid_t pid = std::stoi(pid_text);
    EXPECT_EQ(::kill(pid, 0), 0) << "the pid file names no live process";
    // The daemon is not our child: if the test stops early, end it here.
    const std::unique_ptr<const pid_t, void (*)(const pid_t*)> reaper(&pid, [](const pid_t* p) {
        std::string command;
        std::ifstream("/proc/" + std::to_string(*p) + "/cmdline") >> command;
        if (command.find("bscd") != std::string::npos) {  // not a reused pid
            ::kill(*p, SIGKILL);
        }
    });

    const auto second = run(bscd_args({"--daemonize", "-a", dir.file("other.sock")}));
    EXPECT_EQ(second.status, 1);
    EXPECT_NE(second.output.find("is held by running process " + pid_text), std::string::npos)
        << second.output;

    EXPECT_EQ(exchange(socket_path(), "10\nEXIT\n"), "OK\nOK\n");
    EXPECT_FALSE(fs::exists(pid_file()));
    EXPECT_TRUE(wait_until([&] { return ::kill(pid, 0) != 0; }));
    const std::string text = read_file(dir.file("bscd.log"));
    EXPECT_NE(text.find("INFO  Handling 10 (PREPARED_CHROOT_ENV_CODE) for bscd-demo from pid"),
              std::string::npos)
        << text;
}

TEST_F(BscdTest, DaemonKeepsNoDescriptorOfTheCommandThatStartedIt) {
    // fd 9 of the daemonizing command is the pipe to `cat`: were the daemon to
    // keep it, cat would never see the end of its input and the pipeline
    // would not end while bscd runs.
    std::string command;
    for (const std::string& arg : bscd_args({"--daemonize"})) {
        command += arg + " ";
    }
    const auto started = run({"bash", "-c", "{ " + command + "; } 9>&1 | cat"}, {}, 5s);
    ASSERT_TRUE(fs::exists(pid_file())) << started.output;
    EXPECT_EQ(exchange(socket_path(), "EXIT\n"), "OK\n");
    EXPECT_EQ(started.status, 0) << "the pipeline did not end: the daemon kept its pipe\n"
                                 << started.output;
}

TEST_F(BscdTest, IdleConnectionIsClosed) {
    auto daemon = start_bscd({"--idle-timeout", "0.2"});
    ProducerClient silent(socket_path());
    EXPECT_TRUE(silent.closed_by_peer(3s));
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
}

TEST_F(BscdTest, ARequestTrickledInIsCutAfterTheIdleTimeout) {
    auto daemon = start_bscd({"--idle-timeout", "0.3"});
    ProducerClient slow(socket_path());
    // A byte every 50 ms keeps the connection busy, never finishing a line:
    // it is cut 0.3 s after the request began, not kept for ever.
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    bool cut = false;
    while (!cut && std::chrono::steady_clock::now() < give_up) {
        try {
            slow.write("1");
            cut = slow.closed_by_peer(50ms);  // paces the trickle too
        } catch (const std::runtime_error&) {
            cut = true;  // closed while writing
        }
    }
    EXPECT_TRUE(cut) << "still open after 5 s of trickling";
    EXPECT_NE(daemon->output().find("a request unfinished for 300 ms"), std::string::npos)
        << daemon->output();
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
}

TEST_F(BscdTest, RejectedRequestsDoNotFloodTheLog) {
    auto daemon = start_bscd();
    std::string garbage;
    std::string errors;
    for (int i = 0; i < 1000; ++i) {
        garbage += "nonsense\n";
        errors += "ERR unknown code name nonsense\n";
    }
    EXPECT_EQ(exchange(socket_path(), garbage), errors);
    ASSERT_TRUE(wait_until([&] {
        return daemon->output().find("Rejected 990 more requests") != std::string::npos;
    })) << daemon->output();
    const std::string output = daemon->output();
    EXPECT_EQ(occurrences(output, "Rejected request"), 10U);  // ProducerSession::rejections_logged
}

TEST_F(BscdTest, ConnectionLimitAnswersErr) {
    auto daemon = start_bscd({"--max-connections", "2"});
    ProducerClient first(socket_path());
    ProducerClient second(socket_path());
    first.write("10\n");
    second.write("20\n");  // both are sessions now
    EXPECT_EQ(first.read_lines(1), "OK\n");
    EXPECT_EQ(second.read_lines(1), "OK\n");
    ProducerClient third(socket_path());
    EXPECT_EQ(third.read_lines(1), "ERR too many connections\n");
}

TEST_F(BscdTest, ExitFromAnotherUserIsRefused) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root to act as another user";
    }
    auto daemon = start_bscd();
    // Let user nobody reach the socket at all: only the EXIT check stands in the way.
    fs::permissions(dir.path(), fs::perms::others_exec, fs::perm_options::add);
    fs::permissions(socket_path(), fs::perms::all);
    const auto result = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             bin("bsc"), "-a", socket_path(), "EXIT"});
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.output.find("EXIT is allowed only"), std::string::npos) << result.output;
    EXPECT_TRUE(daemon->running());
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
}

TEST_F(BscdTest, RestartContinuesTheHistoryAfterItsLastEntry) {
    {
        auto daemon = start_bscd();
        EXPECT_EQ(exchange(socket_path(), "10\n20\nEXIT\n"), "OK\nOK\nOK\n");
        EXPECT_EQ(daemon->wait(5s), 0);
    }
    // A last id in the future (clock skew, another host): the next ids must follow it.
    redis.command({"XADD", "bscd-demo:events", "99999999999999-5", "code", "21", "name",
                   "SET_UP_TIMEZONE_CODE", "ts", "0"});
    auto daemon = start_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "30\n"), "OK\n");
    EXPECT_EQ(subscriber.next(), "30");
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "20", "21", "30"}));
}

TEST_F(BscdTest, NoHistoryPublishesExactlyAsPieman) {
    auto daemon = start_bscd({"--no-history"});
    Subscriber subscriber(redis, "bscd-demo");
    EXPECT_EQ(exchange(socket_path(), "10\n20\nSYNCED_CODE\n"), "OK\nOK\nOK\n");
    EXPECT_EQ(subscriber.collect(3), (std::vector<std::string>{"10", "20", "82"}));
    EXPECT_EQ(redis.command({"EXISTS", "bscd-demo:events"}).integer, 0);
    EXPECT_EQ(redis.command({"DBSIZE"}).integer, 0) << "no key at all, as with Pieman";
}

// The profile's variables a test runner may have exported, cleared.
const EnvVars no_profile_env{{"BSCD_PROFILE", ""}, {"OS", ""}, {"DEVICE", ""}};

// `argv` run by env(1) with `vars` set: start_serving_bscd takes no
// environment, and env execs bscd under its own pid, the one bscd writes.
std::vector<std::string> under_env(const EnvVars& vars, const std::vector<std::string>& argv) {
    std::vector<std::string> wrapped{"env"};
    for (const auto& [name, value] : vars) {
        wrapped.emplace_back(name).append("=").append(value);
    }
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    return wrapped;
}

// Whether some line of `output` holds every one of `words`.
bool a_line_names(const std::string& output, const std::vector<std::string>& words) {
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        if (std::all_of(words.begin(), words.end(),
                        [&](const auto& word) { return line.find(word) != std::string::npos; })) {
            return true;
        }
    }
    return false;
}

TEST_F(BscdTest, ProfileOptionIsAccepted) {
    auto daemon = start_serving_bscd(
        under_env(no_profile_env, bscd_args({"--profile", "bookworm-arm64"})), pid_file());
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
}

TEST_F(BscdTest, ProfileFromTheEnvironment) {
    // Read, since it is checked: a bad one stops bscd before anything else.
    const auto refused =
        run(bscd_args(), {{"BSCD_PROFILE", "bookworm arm64"}, {"OS", ""}, {"DEVICE", ""}});
    EXPECT_EQ(refused.status, 2) << refused.output;
    EXPECT_TRUE(a_line_names(
        refused.output, {"\"bookworm arm64\"", "BSCD_PROFILE", std::string(profile_name_rule)}))
        << refused.output;
    EXPECT_FALSE(fs::exists(pid_file()));

    auto daemon = start_serving_bscd(
        under_env({{"BSCD_PROFILE", "bookworm-arm64"}, {"OS", ""}, {"DEVICE", ""}}, bscd_args()),
        pid_file());
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
}

TEST_F(BscdTest, TheProfileFlagWinsOverTheEnvironment) {
    // The environment's, invalid, would be refused: it is not even read.
    auto daemon = start_serving_bscd(
        under_env({{"BSCD_PROFILE", "not a profile"}, {"OS", ""}, {"DEVICE", ""}},
                  bscd_args({"--profile", "bookworm-arm64"})),
        pid_file());
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
}

TEST_F(BscdTest, AnInvalidProfileIsAUsageErrorNamingTheRule) {
    for (const std::string& bad : std::vector<std::string>{"bookworm arm64", "a..b", "a/b", "a:b",
                                                           "", std::string(129, 'x')}) {
        const auto result = run(bscd_args({"--profile", bad}), no_profile_env);
        EXPECT_EQ(result.status, 2) << bad << "\n" << result.output;
        EXPECT_TRUE(a_line_names(result.output, {"--profile", std::string(profile_name_rule)}))
            << bad << "\n"
            << result.output;
    }
    EXPECT_FALSE(fs::exists(pid_file()));
}

TEST_F(BscdTest, AProfileNeedsTheHistory) {
    const auto flag =
        run(bscd_args({"--profile", "bookworm-arm64", "--no-history"}), no_profile_env);
    EXPECT_EQ(flag.status, 2) << flag.output;
    EXPECT_TRUE(a_line_names(flag.output, {"--profile", "--no-history"})) << flag.output;
}

TEST_F(BscdTest, AProfileInTheEnvironmentIsLeftAloneWithoutAHistory) {
    // Exported for a whole build service, it must not stop a --no-history
    // bscd: there is nothing to learn without a history, so it is not read.
    auto daemon = start_serving_bscd(
        under_env({{"BSCD_PROFILE", "bookworm-arm64"}, {"OS", ""}, {"DEVICE", ""}},
                  bscd_args({"--no-history"})),
        pid_file());
    EXPECT_EQ(exchange(socket_path(), "10\nEXIT\n"), "OK\nOK\n");
    EXPECT_EQ(daemon->wait(5s), 0) << daemon->output();
}

TEST_F(BscdTest, PiemansOsAndDeviceNeverStopBscd) {
    // The default profile from them is made valid, and dropped without a
    // history: Pieman's environment alone is never a usage error.
    const EnvVars piemans{
        {"BSCD_PROFILE", ""}, {"OS", "raspbian-buster-armhf"}, {"DEVICE", "rpi 3/b.."}};
    for (const auto& extra :
         {std::vector<std::string>{}, std::vector<std::string>{"--no-history"}}) {
        SCOPED_TRACE(::testing::PrintToString(extra));
        auto daemon = start_serving_bscd(under_env(piemans, bscd_args(extra)), pid_file());
        EXPECT_EQ(exchange(socket_path(), "10\nEXIT\n"), "OK\nOK\n");
        EXPECT_EQ(daemon->wait(5s), 0) << daemon->output();
    }
}

TEST_F(BscdTest, HelpDocumentsTheProfile) {
    const auto help = run({bin("bscd"), "--help"}, no_profile_env);
    EXPECT_EQ(help.status, 0) << help.output;
    for (const char* text : {"--profile NAME", "BSCD_PROFILE", "$OS.$DEVICE"}) {
        EXPECT_NE(help.output.find(text), std::string::npos) << text << "\n" << help.output;
    }
}

TEST_F(BscdTest, PasswordFromTheEnvironment) {
    RedisServerOptions secured_options;
    secured_options.requirepass = "s3cret";
    RedisServer secured(secured_options);
    std::vector<std::string> args{bin("bscd"),
                                  "--project",
                                  "demo",
                                  "--runtime-dir",
                                  dir.path(),
                                  "-P",
                                  std::to_string(secured.port())};
    const auto refused = run(args);
    EXPECT_EQ(refused.status, 1);
    EXPECT_NE(refused.output.find("Could not connect to Redis"), std::string::npos);
    EXPECT_EQ(refused.output.find("s3cret"), std::string::npos) << "password in the log";

    Process daemon(args, {{"REDIS_PASSWORD", "s3cret"}});
    ASSERT_TRUE(wait_until([&] { return fs::exists(pid_file()); })) << daemon.output();
    Subscriber subscriber(secured.host(), secured.port(), "bscd-demo", 5s, "s3cret");
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    EXPECT_EQ(subscriber.next(), "10");
}

}  // namespace
}  // namespace bscd::test
