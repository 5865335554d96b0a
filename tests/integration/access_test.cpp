// Who may use bscd's producer socket: the file's mode and group, the
// --allow-uid/--allow-gid lists checked on the peer's kernel credentials, EXIT
// from another user, and a daemon out of file descriptors. Tests that act as
// another user need root (setpriv changes the uid) and skip otherwise.

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "support/bscd_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr uid_t nobody = 65534;    // nobody:nogroup on Debian
constexpr uid_t stranger = 23456;  // a uid with no account at all

// argv run as uid:gid with no supplementary groups.
std::vector<std::string> as_user(uid_t uid, gid_t gid, std::vector<std::string> argv) {
    std::vector<std::string> wrapped{"setpriv", "--reuid=" + std::to_string(uid),
                                     "--regid=" + std::to_string(gid), "--clear-groups"};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    return wrapped;
}

mode_t file_mode(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_mode & 07777;
}

gid_t file_group(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_gid;
}

class AccessTest : public BscdTest {
protected:
    void SetUp() override {
        // Other users must reach the directory: only the socket's own rules
        // then stand in their way.
        fs::permissions(dir.path(), fs::perms::others_exec | fs::perms::group_exec,
                        fs::perm_options::add);
    }

    static bool root() { return ::geteuid() == 0; }

    // `bsc -a SOCKET CODE` as uid:gid.
    RunResult bsc_as(uid_t uid, gid_t gid, const std::string& code) {
        return run(as_user(uid, gid, {bin("bsc"), "-a", socket_path(), code}));
    }
};

TEST_F(AccessTest, SocketIsOwnerAndGroupOnlyByDefault) {
    auto daemon = start_bscd();
    EXPECT_EQ(file_mode(socket_path()), 0660u);
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
    EXPECT_NE(daemon->output().find("(mode 0660)"), std::string::npos) << daemon->output();
}

TEST_F(AccessTest, SocketModeAndGroupAreApplied) {
    // A group of our own: any user may give its files one of its groups.
    const gid_t group = ::getegid();
    auto daemon = start_bscd({"--socket-mode", "0640", "--socket-group", std::to_string(group)});
    EXPECT_EQ(file_mode(socket_path()), 0640u);
    EXPECT_EQ(file_group(socket_path()), group);
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
}

TEST_F(AccessTest, BadModeOrUnknownNamesAreUsageErrors) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"--socket-mode", "0999"}, "--socket-mode: 0999 is not a permission mode"},
        {{"--socket-mode", "rw-rw----"}, "--socket-mode: rw-rw---- is not a permission mode"},
        {{"--socket-mode", "01777"}, "--socket-mode: 01777 is not a permission mode"},
        {{"--socket-group", "no-such-group-here"}, "--socket-group: no such group"},
        {{"--allow-uid", "0,no-such-user-here"}, "--allow-uid: no such user: no-such-user-here"},
        {{"--allow-gid", "no-such-group-here"}, "--allow-gid: no such group"},
    };
    for (const auto& [args, message] : cases) {
        const auto result = run(bscd_args(args));
        EXPECT_EQ(result.status, 2) << args[1];
        EXPECT_NE(result.output.find(message), std::string::npos) << result.output;
        EXPECT_FALSE(fs::exists(socket_path()));
        EXPECT_FALSE(fs::exists(pid_file()));
    }
}

TEST_F(AccessTest, AGroupTheDaemonIsNotInIsAStartupError) {
    // Root may give a file any group: as root, bscd runs as nobody here.
    std::vector<std::string> args = bscd_args({"--socket-group", "0"});
    if (root()) {
        fs::permissions(dir.path(), fs::perms::all);
        args = as_user(nobody, nobody, args);
    }
    const auto result = run(args);
    EXPECT_EQ(result.status, 1);
    EXPECT_NE(result.output.find("cannot give socket " + socket_path() +
                                 " the group 0: Operation not permitted"),
              std::string::npos)
        << result.output;
    EXPECT_FALSE(fs::exists(socket_path()));
    EXPECT_FALSE(fs::exists(pid_file()));
}

TEST_F(AccessTest, OtherUsersCannotConnectByDefault) {
    if (!root()) {
        GTEST_SKIP() << "needs root to act as another user";
    }
    auto daemon = start_bscd();
    Subscriber subscriber(redis, "bscd-demo");
    const auto refused = bsc_as(nobody, nobody, "10");
    EXPECT_EQ(refused.status, 1);
    EXPECT_NE(refused.output.find("bsc: permission denied: " + socket_path()), std::string::npos)
        << refused.output;
    // The sentinel: had the refused 10 been published, it would come first.
    EXPECT_EQ(exchange(socket_path(), "20\n"), "OK\n");
    EXPECT_EQ(subscriber.next(), "20");
}

TEST_F(AccessTest, TheSocketGroupLetsItsMembersReport) {
    if (!root()) {
        GTEST_SKIP() << "needs root to act as another user";
    }
    auto daemon = start_bscd({"--socket-group", "nogroup"});
    Subscriber subscriber(redis, "bscd-demo");
    const auto member = bsc_as(stranger, nobody, "10");  // nogroup is 65534 too
    EXPECT_EQ(member.status, 0) << member.output;
    EXPECT_EQ(subscriber.next(), "10");
    const auto outsider = bsc_as(stranger, stranger, "20");
    EXPECT_EQ(outsider.status, 1);
    EXPECT_NE(outsider.output.find("bsc: permission denied: " + socket_path()), std::string::npos)
        << outsider.output;
    EXPECT_EQ(history(), std::vector<std::string>{"10"});
}

TEST_F(AccessTest, AllowUidServesOnlyTheListedUsersAndRoot) {
    if (!root()) {
        GTEST_SKIP() << "needs root to act as another user";
    }
    const std::string log = dir.file("bscd.log");
    auto daemon = start_bscd({"--socket-mode", "0666", "--allow-uid", std::to_string(stranger),
                              "--allow-uid", "daemon", "-l", log});
    Subscriber subscriber(redis, "bscd-demo");

    const auto refused = bsc_as(nobody, nobody, "10");
    EXPECT_EQ(refused.status, 1);
    EXPECT_NE(refused.output.find("ERR not allowed: uid 65534"), std::string::npos)
        << refused.output;
    const auto allowed = bsc_as(stranger, stranger, "20");
    EXPECT_EQ(allowed.status, 0) << allowed.output;
    const auto by_name = bsc_as(1, 1, "21");  // "daemon" is uid 1
    EXPECT_EQ(by_name.status, 0) << by_name.output;
    EXPECT_EQ(exchange(socket_path(), "30\n"), "OK\n");  // root, always

    EXPECT_EQ(subscriber.collect(3), (std::vector<std::string>{"20", "21", "30"}));
    EXPECT_EQ(history(), (std::vector<std::string>{"20", "21", "30"}));
    EXPECT_TRUE(daemon->running());
    const std::string warning = "Refused a connection on " + socket_path() + " from pid ";
    EXPECT_TRUE(wait_until([&] {
        const std::string text = read_file(log);
        return text.find(warning) != std::string::npos &&
               text.find(" uid 65534 gid 65534: not allowed") != std::string::npos;
    })) << daemon->output();
}

TEST_F(AccessTest, AllowGidServesThatPrimaryGroup) {
    if (!root()) {
        GTEST_SKIP() << "needs root to act as another user";
    }
    auto daemon = start_bscd({"--socket-mode", "0666", "--allow-gid", "nogroup"});
    Subscriber subscriber(redis, "bscd-demo");
    const auto member = bsc_as(stranger, nobody, "10");
    EXPECT_EQ(member.status, 0) << member.output;
    const auto outsider = bsc_as(stranger, stranger, "20");
    EXPECT_EQ(outsider.status, 1);
    EXPECT_NE(outsider.output.find("ERR not allowed: uid 23456"), std::string::npos)
        << outsider.output;
    EXPECT_EQ(subscriber.collect(1), std::vector<std::string>{"10"});
    EXPECT_TRUE(sentinel_comes_next(subscriber, "21")) << "the outsider's 20 was published";
}

TEST_F(AccessTest, TheDaemonsOwnUserIsAlwaysServed) {
    if (!root()) {
        GTEST_SKIP() << "needs root to run bscd as another user";
    }
    // bscd itself runs as nobody here, in a directory nobody may write.
    fs::permissions(dir.path(), fs::perms::all);
    Process daemon(
        as_user(nobody, nobody,
                bscd_args({"--socket-mode", "0666", "--allow-uid", std::to_string(stranger)})));
    ASSERT_TRUE(wait_until([&] { return fs::exists(pid_file()) || !daemon.running(); }));
    ASSERT_TRUE(daemon.running()) << daemon.output();
    Subscriber subscriber(redis, "bscd-demo");
    const auto own = bsc_as(nobody, nobody, "10");
    EXPECT_EQ(own.status, 0) << own.output;
    const auto listed = bsc_as(stranger, stranger, "20");
    EXPECT_EQ(listed.status, 0) << listed.output;
    const auto other = bsc_as(stranger + 1, stranger + 1, "30");
    EXPECT_EQ(other.status, 1);
    EXPECT_NE(other.output.find("ERR not allowed: uid " + std::to_string(stranger + 1)),
              std::string::npos)
        << other.output;
    EXPECT_EQ(exchange(socket_path(), "40\n"), "OK\n");  // root
    // OK means accepted, not yet in Redis: wait for the channel first.
    EXPECT_EQ(subscriber.collect(3), (std::vector<std::string>{"10", "20", "40"}));
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "20", "40"}));
}

TEST_F(AccessTest, ExitFromAnAllowedOtherUserIsRefused) {
    if (!root()) {
        GTEST_SKIP() << "needs root to act as another user";
    }
    auto daemon = start_bscd({"--socket-mode", "0666", "--allow-uid", "nobody"});
    const auto code = bsc_as(nobody, nobody, "10");
    EXPECT_EQ(code.status, 0) << code.output;
    const auto exit_request = bsc_as(nobody, nobody, "EXIT");
    EXPECT_EQ(exit_request.status, 1);
    EXPECT_NE(exit_request.output.find("ERR EXIT is allowed only to uid 0 and root"),
              std::string::npos)
        << exit_request.output;
    EXPECT_TRUE(daemon->running());
    EXPECT_TRUE(fs::exists(pid_file()));
    EXPECT_EQ(exchange(socket_path(), "20\nEXIT\n"), "OK\nOK\n");  // root may
    EXPECT_EQ(daemon->wait(5s), 0);
    EXPECT_EQ(history(), (std::vector<std::string>{"10", "20"}));
}

TEST_F(AccessTest, RefusedExitsCountAgainstTheLogCap) {
    if (!root()) {
        GTEST_SKIP() << "needs root to act as another user";
    }
    auto daemon = start_bscd({"--socket-mode", "0666"});
    std::vector<std::string> argv{bin("bsc"), "send", "-a", socket_path()};
    argv.insert(argv.end(), 1000, "EXIT");
    const auto refused = run(as_user(nobody, nobody, argv));
    EXPECT_EQ(refused.status, 1) << refused.output;
    // The per-connection cap: ten lines, then one summary when it closes.
    ASSERT_TRUE(wait_until([&] {
        return daemon->output().find("Rejected 990 more requests") != std::string::npos;
    })) << daemon->output();
    const std::string output = daemon->output();
    EXPECT_EQ(occurrences(output, "Refused EXIT"), 10U);
    EXPECT_TRUE(daemon->running());
    EXPECT_EQ(exchange(socket_path(), "10\n"), "OK\n");
}

TEST_F(AccessTest, OutOfDescriptorsIsAnErrThenServingResumes) {
    // Few descriptors: bscd needs about a dozen of its own, the rest are
    // producer connections.
    std::vector<std::string> args{"prlimit", "--nofile=24:24"};
    const auto bscd = bscd_args();
    args.insert(args.end(), bscd.begin(), bscd.end());
    Process daemon(args);
    ASSERT_TRUE(wait_until([&] { return fs::exists(pid_file()) || !daemon.running(); }));
    ASSERT_TRUE(daemon.running()) << daemon.output();

    // Each client sends a code and keeps its connection, holding a
    // descriptor of bscd's, until one is refused.
    std::vector<std::unique_ptr<ProducerClient>> clients;
    std::string last_reply;
    while (clients.size() < 40) {
        clients.push_back(std::make_unique<ProducerClient>(socket_path()));
        clients.back()->write("10\n");
        last_reply = clients.back()->read_lines(1);
        if (last_reply != "OK\n") {
            break;
        }
    }
    EXPECT_EQ(last_reply, "ERR too many open files\n");
    EXPECT_GT(clients.size(), 1u);
    const std::size_t accepted = clients.size() - 1;
    EXPECT_TRUE(daemon.running());
    EXPECT_TRUE(wait_until([&] {
        return daemon.output().find("WARNI Refused a connection on " + socket_path() +
                                    ": Too many open files") != std::string::npos;
    })) << daemon.output();

    clients.clear();
    // The sessions end as their clients go; then a connection is served again.
    std::string reply;
    EXPECT_TRUE(wait_until([&] {
        reply = exchange(socket_path(), "20\n");
        return reply == "OK\n";
    })) << reply;
    std::vector<std::string> expected(accepted, "10");
    expected.emplace_back("20");
    EXPECT_TRUE(wait_until([&] { return history().size() >= expected.size(); }));
    EXPECT_EQ(history(), expected);
}

}  // namespace
}  // namespace bscd::test
