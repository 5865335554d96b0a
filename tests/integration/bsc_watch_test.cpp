// bsc watch, status and history against a real Redis and a real bscd: a
// late viewer sees the whole build, once, in order, also across a cut link.

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "core/build_record.hpp"
#include "support/bscd_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/profile_history.hpp"
#include "support/tcp_proxy.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> pieman_build{"10", "20", "21", "30", "31", "32", "33",  "40",
                                            "50", "60", "70", "80", "81", "82", "1000"};

class BscWatchTest : public BscdTest {
protected:
    std::vector<std::string> bsc(std::vector<std::string> args, int port = 0) const {
        args.insert(args.begin(), bin("bsc"));
        args.insert(args.end(), {"-P", std::to_string(port != 0 ? port : redis.port())});
        return args;
    }

    void send(const std::vector<std::string>& codes) {
        std::string requests;
        for (const auto& code : codes) {
            requests += code + "\n";
        }
        ASSERT_EQ(std::count(requests.begin(), requests.end(), '\n'),
                  static_cast<long>(codes.size()));
        const std::string replies = exchange(socket_path(), requests);
        ASSERT_EQ(replies.find("ERR"), std::string::npos) << replies;
    }

    void seed_profile(const std::string& profile,
                      const std::vector<std::vector<StageTime>>& builds) {
        test::seed_profile(redis, profile, builds);
    }

    // Waits until `process` printed `text`.
    static bool printed(const Process& process, const std::string& text,
                        std::chrono::milliseconds timeout = 10s) {
        return wait_until([&] { return process.output().find(text) != std::string::npos; },
                          timeout);
    }

    // The code column of each event line (lines that start with a year).
    static std::vector<std::string> codes_in(const std::string& output) {
        std::vector<std::string> codes;
        std::istringstream lines(output);
        for (std::string line; std::getline(lines, line);) {
            if (line.size() > 26 && line[4] == '-' && line[23] == 'Z') {
                std::istringstream fields(line);
                std::string ts;
                std::string code;
                fields >> ts >> code;
                codes.push_back(code);
            }
        }
        return codes;
    }
};

TEST_F(BscWatchTest, LateWatcherSeesTheWholeBuildOnceInOrder) {
    auto daemon = start_bscd();
    send({pieman_build.begin(), pieman_build.begin() + 5});
    Process watcher(bsc({"watch", "demo", "--timeout", "20"}));
    ASSERT_TRUE(wait_until([&] { return codes_in(watcher.output()).size() == 5; }))
        << watcher.output();
    send({pieman_build.begin() + 5, pieman_build.end()});
    EXPECT_EQ(watcher.wait(10s), 0) << watcher.output();
    EXPECT_EQ(codes_in(watcher.output()), pieman_build);
    EXPECT_NE(watcher.output().find("build succeeded"), std::string::npos);
}

TEST_F(BscWatchTest, FailedBuildExitsOne) {
    auto daemon = start_bscd();
    send({"10", "20", "1001"});
    const auto result = run(bsc({"watch", "demo", "--timeout", "10"}));
    EXPECT_EQ(result.status, 1) << result.output;
    EXPECT_NE(result.output.find("build FAILED after SET_UP_LOCALE_CODE (14%)"), std::string::npos)
        << result.output;
}

TEST_F(BscWatchTest, FinishedBuildIsReportedAtOnce) {
    auto daemon = start_bscd();
    send(pieman_build);
    const auto start = std::chrono::steady_clock::now();
    const auto result = run(bsc({"watch", "demo"}));
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_EQ(codes_in(result.output), pieman_build);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(BscWatchTest, TimeoutExitsTwo) {
    auto daemon = start_bscd();
    send({"10"});
    const auto result = run(bsc({"watch", "demo", "--timeout", "0.5"}));
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("no final code within"), std::string::npos) << result.output;
}

TEST_F(BscWatchTest, JsonLinesAreTheEventShape) {
    auto daemon = start_bscd();
    send({"10", "1000"});
    const auto result = run(bsc({"watch", "demo", "--json"}));
    EXPECT_EQ(result.status, 0);
    std::istringstream lines(result.output);
    std::string first;
    std::string second;
    std::getline(lines, first);
    std::getline(lines, second);
    EXPECT_EQ(first.rfind(R"({"project":"demo","id":")", 0), 0u) << first;
    EXPECT_NE(first.find(R"("code":10,"name":"PREPARED_CHROOT_ENV_CODE")"), std::string::npos);
    EXPECT_NE(first.find(R"("progress":7,"final":false})"), std::string::npos) << first;
    EXPECT_NE(second.find(R"("progress":100,"final":true})"), std::string::npos) << second;
}

TEST_F(BscWatchTest, WatcherThroughACutLinkMissesNothingAndRepeatsNothing) {
    auto daemon = start_bscd();
    TcpProxy proxy(redis.host(), redis.port());
    send({"10", "20"});
    Process watcher(bsc({"watch", "demo", "--timeout", "30"}, proxy.port()));
    ASSERT_TRUE(wait_until([&] { return codes_in(watcher.output()).size() == 2; }))
        << watcher.output();
    proxy.cut();
    send({"21", "30", "31"});  // while the watcher cannot read
    proxy.restore();
    ASSERT_TRUE(wait_until([&] { return codes_in(watcher.output()).size() == 5; }, 15s))
        << watcher.output();
    send({pieman_build.begin() + 5, pieman_build.end()});
    EXPECT_EQ(watcher.wait(15s), 0) << watcher.output();
    EXPECT_EQ(codes_in(watcher.output()), pieman_build);
    EXPECT_NE(watcher.output().find("reconnected to Redis"), std::string::npos);
}

TEST_F(BscWatchTest, StatusAndHistory) {
    auto daemon = start_bscd();
    EXPECT_EQ(run(bsc({"status", "demo"})).status, 1) << "no history yet";
    send({"10", "20", "21"});
    ASSERT_TRUE(wait_until([&] { return history().size() == 3; }));  // accepted, then delivered
    const auto status = run(bsc({"status", "demo"}));
    EXPECT_EQ(status.status, 0);
    EXPECT_NE(status.output.find("last code 21 SET_UP_TIMEZONE_CODE"), std::string::npos)
        << status.output;
    EXPECT_NE(status.output.find("progress  21%, stage 3 of 14"), std::string::npos);
    EXPECT_NE(status.output.find("state     in progress"), std::string::npos);
    const auto json = run(bsc({"status", "demo", "--json"}));
    EXPECT_EQ(json.status, 0);
    EXPECT_EQ(
        json.output.rfind(R"({"project":"demo","state":"running","progress":21,"stage":3,)", 0), 0u)
        << json.output;
    const auto history = run(bsc({"history", "demo"}));
    EXPECT_EQ(history.status, 0);
    EXPECT_EQ(codes_in(history.output), (std::vector<std::string>{"10", "20", "21"}));
    EXPECT_NE(history.output.find(" ms)"), std::string::npos) << "stage durations";
    const auto history_json = run(bsc({"history", "demo", "--json"}));
    EXPECT_NE(history_json.output.find(R"("final":false,"duration_ms":null})"), std::string::npos)
        << history_json.output;
    EXPECT_NE(history_json.output.find(R"("progress":14,"final":false,"duration_ms":)"),
              std::string::npos);
}

// Stages 10, 20 and 21 took `ms` each, the success code 1 s.
std::vector<StageTime> stages_of(std::int64_t ms) {
    return {{10, ms}, {20, ms}, {21, ms}, {1000, 1'000}};
}

// About ten minutes a stage (a median of 10 min, 9.5 to 10.5 min between the
// quartiles): the pace stays usual however loaded the machine.
const std::vector<std::vector<StageTime>> slow_builds{stages_of(540'000), stages_of(600'000),
                                                      stages_of(660'000)};

TEST_F(BscWatchTest, TimeLeftAndTheStagesToComeShrinkAsCodesArrive) {
    seed_profile("p", slow_builds);
    auto daemon = start_bscd({"--profile", "p"});
    Process watcher(bsc({"watch", "demo", "--timeout", "30"}));
    send({"10"});
    ASSERT_TRUE(printed(watcher,
                        "  to come   20 SET_UP_LOCALE_CODE (usually 10 min 0 s), 21 "
                        "SET_UP_TIMEZONE_CODE (usually 10 min 0 s), 1000 SUCCESSFUL_CODE "
                        "(usually 1.0 s)\n"))
        << watcher.output();
    EXPECT_NE(watcher.output().find("  estimate  about "), std::string::npos) << watcher.output();
    EXPECT_NE(watcher.output().find(" left ("), std::string::npos) << watcher.output();
    EXPECT_NE(watcher.output().find("), from 3 builds of p\n"), std::string::npos);
    send({"20"});
    ASSERT_TRUE(printed(watcher,
                        "  to come   21 SET_UP_TIMEZONE_CODE (usually 10 min 0 s), 1000 "
                        "SUCCESSFUL_CODE (usually 1.0 s)\n"))
        << watcher.output();
    // bsc status words it the same way.
    const auto status = run(bsc({"status", "demo"}));
    EXPECT_NE(status.output.find("\nestimate  about "), std::string::npos) << status.output;
    EXPECT_NE(status.output.find("\nto come   21 SET_UP_TIMEZONE_CODE (usually 10 min 0 s), 1000 "
                                 "SUCCESSFUL_CODE (usually 1.0 s)\n"),
              std::string::npos)
        << status.output;
    send({"21"});
    ASSERT_TRUE(printed(watcher, "  to come   1000 SUCCESSFUL_CODE (usually 1.0 s)\n"))
        << watcher.output();
    send({"1000"});
    EXPECT_EQ(watcher.wait(10s), 0) << watcher.output();
    const std::string output = watcher.output();
    EXPECT_EQ(codes_in(output), (std::vector<std::string>{"10", "20", "21", "1000"}));
    // Each code's outlook follows it; after the final code, only the outcome.
    std::vector<std::string> lines;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    ASSERT_GE(lines.size(), 2U);
    EXPECT_EQ(lines.back().rfind("build succeeded: 100%", 0), 0U) << output;
    EXPECT_NE(lines[lines.size() - 2].find("  1000  SUCCESSFUL_CODE  100%"), std::string::npos)
        << output;
    std::size_t estimates = 0;
    for (const std::string& line : lines) {
        estimates += line.starts_with("  estimate  about ") ? 1 : 0;
    }
    EXPECT_EQ(estimates, 3U) << "one after each code but the final one:\n" << output;
}

TEST_F(BscWatchTest, AFirstBuildOfItsProfileSaysSoOnce) {
    auto daemon = start_bscd({"--profile", "fresh"});
    Process watcher(bsc({"watch", "demo", "--timeout", "30"}));
    send({"10"});
    ASSERT_TRUE(printed(watcher, "  estimate  first build of this kind (fresh)"))
        << watcher.output();
    send({"20", "21"});
    ASSERT_TRUE(wait_until([&] { return codes_in(watcher.output()).size() == 3; }))
        << watcher.output();
    send({"1000"});
    EXPECT_EQ(watcher.wait(10s), 0) << watcher.output();
    const std::string output = watcher.output();
    EXPECT_EQ(output.find("first build of this kind"), output.rfind("first build of this kind"))
        << "said once, not after every code:\n"
        << output;
    EXPECT_EQ(output.find("to come"), std::string::npos) << "nothing learnt to list:\n" << output;
}

TEST_F(BscWatchTest, ABuildWithoutAProfileShowsWhatItDidBefore) {
    auto daemon = start_bscd();
    Process watcher(bsc({"watch", "demo", "--timeout", "30"}));
    send({"10", "20"});
    ASSERT_TRUE(wait_until([&] { return codes_in(watcher.output()).size() == 2; }))
        << watcher.output();
    send({"1000"});
    EXPECT_EQ(watcher.wait(10s), 0) << watcher.output();
    std::istringstream lines(watcher.output());
    for (std::string line; std::getline(lines, line);) {
        EXPECT_TRUE(line.starts_with("20") || line.starts_with("build succeeded")) << line;
    }
}

TEST_F(BscWatchTest, AStageSlowerThanUsualIsFlaggedWithoutANewCode) {
    // Stage 20 took 0.2 s in both earlier builds: its 90th percentile.
    seed_profile("quick", {stages_of(200), stages_of(200)});
    auto daemon = start_bscd({"--profile", "quick"});
    send({"10"});
    Process watcher(bsc({"watch", "demo", "--timeout", "30"}));
    ASSERT_TRUE(printed(watcher, "from 2 builds of quick; this stage is slower than usual\n"))
        << watcher.output();
    EXPECT_EQ(codes_in(watcher.output()), (std::vector<std::string>{"10"}));
    send({"20", "21", "1000"});
    EXPECT_EQ(watcher.wait(10s), 0) << watcher.output();
}

TEST_F(BscWatchTest, AWatchStartedBeforeBscdLearnsTheProfileWhenTheBuildBegins) {
    seed_profile("p", {stages_of(600'000), stages_of(600'000)});
    Process watcher(bsc({"watch", "demo", "--timeout", "30"}));
    // The watcher read Redis (no build yet) and waits on the stream.
    ASSERT_TRUE(wait_until([&] {
        return redis.command({"INFO", "clients"}).str.find("blocked_clients:1") !=
               std::string::npos;
    })) << watcher.output();
    auto daemon = start_bscd({"--profile", "p"});
    send({"10"});
    ASSERT_TRUE(printed(watcher, " left, from 2 builds of p\n")) << watcher.output();
    send({"1000"});
    EXPECT_EQ(watcher.wait(10s), 0) << watcher.output();
}

// A private tmux server: bsc runs in a real pseudo-terminal, the test reads
// the screen as a person would see it.
class Tmux {
public:
    // The server's socket lives in `dir`, which the test removes.
    Tmux(const TempDir& dir, const std::string& command) : socket_(dir.file("tmux")) {
        const auto started =
            run({"tmux", "-S", socket_, "new-session", "-d", "-s", "watch", "-x", "100", "-y", "30",
                 // The shell then waits on the terminal, so the screen and the
                 // cursor stay as bsc left them (a dead pane resets the cursor).
                 "LANG=C.UTF-8 " + command + "; echo EXIT=$?; read _"});
        EXPECT_EQ(started.status, 0) << started.output;
    }
    ~Tmux() { run({"tmux", "-S", socket_, "kill-server"}); }
    Tmux(const Tmux&) = delete;
    Tmux& operator=(const Tmux&) = delete;

    std::string screen() const {
        return run({"tmux", "-S", socket_, "capture-pane", "-p", "-t", "watch"}).output;
    }
    void keys(const std::string& keys) const {
        run({"tmux", "-S", socket_, "send-keys", "-t", "watch", keys});
    }
    bool cursor_visible() const {
        return run({"tmux", "-S", socket_, "display-message", "-p", "-t", "watch",
                    "#{cursor_flag}"})
            .output.starts_with("1");
    }

private:
    std::string socket_;
};

TEST_F(BscWatchTest, TerminalShowsProgressInPlaceThenSuccess) {
    auto daemon = start_bscd();
    send({"10", "20", "21"});
    Tmux tmux(dir, bin("bsc") + " watch demo -P " + std::to_string(redis.port()));
    ASSERT_TRUE(wait_until([&] {
        return tmux.screen().find("21%  stage 3 of 14") != std::string::npos;
    })) << tmux.screen();
    EXPECT_NE(tmux.screen().find("\u2714 20  locale set up"), std::string::npos) << tmux.screen();
    EXPECT_FALSE(tmux.cursor_visible()) << "the progress line hides the cursor while it redraws";
    send({pieman_build.begin() + 3, pieman_build.end()});
    ASSERT_TRUE(wait_until([&] { return tmux.screen().find("EXIT=0") != std::string::npos; }))
        << tmux.screen();
    const std::string screen = tmux.screen();
    EXPECT_NE(screen.find("build succeeded: 100%"), std::string::npos) << screen;
    EXPECT_NE(screen.find("\u2714 82  chroot synced into the root partition"), std::string::npos);
    EXPECT_EQ(screen.find("stage 14 of 14"), std::string::npos) << "progress line left behind";
}

TEST_F(BscWatchTest, CtrlCRestoresTheTerminal) {
    auto daemon = start_bscd();
    send({"10", "20"});
    Tmux tmux(dir, bin("bsc") + " watch demo -P " + std::to_string(redis.port()));
    ASSERT_TRUE(wait_until([&] {
        return tmux.screen().find("stage 2 of 14") != std::string::npos;
    })) << tmux.screen();
    tmux.keys("C-c");
    ASSERT_TRUE(wait_until([&] { return tmux.screen().find("EXIT=130") != std::string::npos; }))
        << tmux.screen();
    EXPECT_TRUE(tmux.cursor_visible());
}

TEST_F(BscWatchTest, TerminalCountsTheTimeLeftDownAndListsTheStagesToCome) {
    seed_profile("p", slow_builds);
    auto daemon = start_bscd({"--profile", "p"});
    send({"10"});
    Tmux tmux(dir, bin("bsc") + " watch demo -P " + std::to_string(redis.port()));
    const auto time_left = [&] {
        const std::string screen = tmux.screen();
        const auto about = screen.find("about ");
        const auto left = screen.find(" left", about);
        return about == std::string::npos || left == std::string::npos
                   ? std::string()
                   : screen.substr(about, left - about);
    };
    ASSERT_TRUE(wait_until([&] {
        // What fits in 100 columns, and how many more.
        return tmux.screen().find("to come: 20 SET_UP_LOCALE_CODE (usually 10 min 0 s), +2 more") !=
               std::string::npos;
    })) << tmux.screen();
    const std::string first = time_left();
    ASSERT_NE(first, "") << tmux.screen();
    // No code comes: the time left counts down on its own.
    ASSERT_TRUE(wait_until([&] { return !time_left().empty() && time_left() != first; }, 5s))
        << first << "\n"
        << tmux.screen();
    EXPECT_NE(tmux.screen().find("stage 1 of 14"), std::string::npos) << tmux.screen();
    send({"20"});
    ASSERT_TRUE(wait_until([&] {
        return tmux.screen().find(
                   "to come: 21 SET_UP_TIMEZONE_CODE (usually 10 min 0 s), 1000 "
                   "SUCCESSFUL_CODE (usually 1.0 s)") != std::string::npos;
    })) << tmux.screen();
    EXPECT_NE(tmux.screen().find("\u2714 20  locale set up"), std::string::npos) << tmux.screen();
    send({"21", "1000"});
    ASSERT_TRUE(wait_until([&] { return tmux.screen().find("EXIT=0") != std::string::npos; }))
        << tmux.screen();
    const std::string screen = tmux.screen();
    EXPECT_NE(screen.find("build succeeded: 100%"), std::string::npos) << screen;
    EXPECT_EQ(screen.find("to come"), std::string::npos) << "progress lines left behind:\n"
                                                         << screen;
    EXPECT_EQ(screen.find(" left"), std::string::npos) << screen;
}

TEST_F(BscWatchTest, LiveFollowsAPublisherThatKeepsNoHistory) {
    auto daemon = start_bscd({"--no-history"});
    Process watcher(bsc({"watch", "demo", "--live", "--timeout", "20"}));
    ASSERT_TRUE(wait_until([&] {
        return redis.command({"PUBSUB", "NUMSUB", "bscd-demo"}).elements.at(1).integer == 1;
    })) << watcher.output();
    send({"10", "20"});
    ASSERT_TRUE(wait_until([&] { return codes_in(watcher.output()).size() == 2; }))
        << watcher.output();
    // Pieman's bscd.py publishes the same way: a bare PUBLISH of the code.
    redis.command({"PUBLISH", "bscd-demo", "21"});
    send({"1000"});
    EXPECT_EQ(watcher.wait(10s), 0) << watcher.output();
    EXPECT_EQ(codes_in(watcher.output()), (std::vector<std::string>{"10", "20", "21", "1000"}));
}

TEST_F(BscWatchTest, RedisUnreachableIsAnError) {
    const int port = redis.port();
    redis.stop();
    const auto result = run(bsc({"watch", "demo"}, port));
    EXPECT_EQ(result.status, 2);
    EXPECT_NE(result.output.find("Could not connect to Redis"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace bscd::test
