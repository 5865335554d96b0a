#include "support/bscd_fixture.hpp"

#include "support/history_codes.hpp"
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

std::unique_ptr<Process> ProxiedBscdTest::start_bscd_via_proxy(std::vector<std::string> extra,
                                                               const std::string& project) {
    extra.insert(extra.end(), {"-P", std::to_string(proxy.port()), "-v"});
    auto daemon = start_bscd(extra, project);  // the later -P wins
    EXPECT_TRUE(wait_until([&] { return connections_made(*daemon) == 1; })) << daemon->output();
    return daemon;
}

std::size_t ProxiedBscdTest::connections_made(const Process& daemon) {
    const std::string output = daemon.output();
    std::size_t count = 0;
    for (auto at = output.find("onnected to Redis"); at != std::string::npos;
         at = output.find("onnected to Redis", at + 1)) {
        ++count;
    }
    return count;
}

long long ProxiedBscdTest::history_length(const std::string& channel) {
    return redis.command({"XLEN", channel + ":events"}).integer;
}

}  // namespace bscd::test
