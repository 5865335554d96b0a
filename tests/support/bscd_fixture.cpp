#include "support/bscd_fixture.hpp"

#include <algorithm>

#include "support/history_codes.hpp"
#include "support/producer_client.hpp"
#include "support/serving_programs.hpp"
#include "support/wait.hpp"

namespace bscd::test {

std::vector<std::string> BscdTest::bscd_args(const std::vector<std::string>& extra,
                                             const std::string& project) const {
    std::vector<std::string> args{bin("bscd"),     "--project", project,
                                  "--runtime-dir", dir.path(),  "-H",
                                  redis.host(),    "-P",        std::to_string(redis.port())};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

std::unique_ptr<Process> BscdTest::start_bscd(const std::vector<std::string>& extra,
                                              const std::string& project) {
    return start_serving_bscd(bscd_args(extra, project), pid_file(project));
}

std::string BscdTest::socket_path(const std::string& project) const {
    return dir.file("bscd-" + project + ".sock");
}

std::string BscdTest::pid_file(const std::string& project) const {
    return dir.file("bscd-" + project + ".pid");
}

std::vector<std::string> BscdTest::history(const std::string& channel) {
    return history_codes(redis, channel);
}

::testing::AssertionResult BscdTest::sentinel_comes_next(Subscriber& subscriber,
                                                         const std::string& sentinel,
                                                         const std::string& project) {
    const std::string reply = exchange(socket_path(project), sentinel + "\n");
    if (reply != "OK\n") {
        return ::testing::AssertionFailure()
               << "bscd answered \"" << reply << "\" to the sentinel " << sentinel;
    }
    const auto next = subscriber.next(std::chrono::seconds(10));
    if (next != sentinel) {
        return ::testing::AssertionFailure()
               << "the next message was " << next.value_or("none (10 s)") << ", not the sentinel "
               << sentinel;
    }
    return ::testing::AssertionSuccess();
}

std::unique_ptr<Process> ProxiedBscdTest::start_bscd_via_proxy(std::vector<std::string> extra,
                                                               const std::string& project) {
    history_kept_ = std::find(extra.begin(), extra.end(), "--no-history") == extra.end();
    extra.insert(extra.end(), {"-P", std::to_string(proxy.port()), "-v"});
    const long long before = links_ready();
    auto daemon = start_bscd(extra, project);  // the later -P wins
    // Redis counts SCRIPT LOAD before bscd reads the reply: wait until the
    // proxy has passed every reply on, or holding replies next would hold
    // the handshake's.
    EXPECT_TRUE(wait_until([&] { return links_ready() > before && proxy.all_answered(); }))
        << daemon->output();
    return daemon;
}

long long ProxiedBscdTest::links_ready() {
    if (history_kept_) {
        return redis.calls_of("script|load");
    }
    return static_cast<long long>(proxy.accepted());
}

long long ProxiedBscdTest::history_length(const std::string& channel) {
    return redis.command({"XLEN", channel + ":events"}).integer;
}

}  // namespace bscd::test
