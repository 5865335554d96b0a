#include "topology_bscd_test.hpp"

#include <fstream>
#include <iterator>

#include "support/history_codes.hpp"
#include "support/wait.hpp"

namespace bscd::test {

using namespace std::chrono_literals;

namespace {
// The end of a long log: where a failure shows.
std::string tail(const std::string& log) {
    constexpr std::size_t keep = 8000;
    return log.size() > keep ? log.substr(log.size() - keep) : log;
}
}  // namespace

std::unique_ptr<Process> TopologyBscdTest::start_bscd(const std::vector<std::string>& extra,
                                                      bool stream_codes) {
    std::vector<std::string> args{bin("bscd"), "--project",        "demo",   "--runtime-dir",
                                  dir.path(),  "--history-length", "100000", "-v"};
    if (stream_codes) {
        args.insert(args.end(), {"--codes", stream.catalog_file()});
    }
    const auto nodes = topology();
    args.insert(args.end(), nodes.begin(), nodes.end());
    args.insert(args.end(), extra.begin(), extra.end());
    auto daemon = std::make_unique<Process>(args);
    const std::string own_pid = std::to_string(daemon->pid()) + "\n";
    const bool serving = wait_until(
        [&] {
            std::ifstream file(dir.file("bscd-demo.pid"));
            const std::string content((std::istreambuf_iterator<char>(file)),
                                      std::istreambuf_iterator<char>());
            return content == own_pid || !daemon->running();
        },
        15s);
    EXPECT_TRUE(serving && daemon->running()) << "bscd did not start:\n" << daemon->output();
    return daemon;
}

void TopologyBscdTest::send_until(ProducerClient& client, std::size_t until) {
    while (stream.sent() < until) {
        const auto refused = stream.send(client, std::min(chunk, until - stream.sent()));
        ASSERT_TRUE(refused.empty()) << refused.front();
    }
}

std::vector<std::string> TopologyBscdTest::first_codes(std::size_t count) const {
    return {stream.codes().begin(), stream.codes().begin() + static_cast<std::ptrdiff_t>(count)};
}

std::vector<std::string> TopologyBscdTest::history_when(int node, std::size_t length,
                                                        const Process& daemon) {
    std::vector<std::string> codes;
    const bool complete = wait_until(
        [&] {
            try {
                codes = history_codes(data_node(node), "bscd-demo");
            } catch (const std::exception&) {
                return false;  // the node is between roles: ask again
            }
            return codes.size() >= length;
        },
        60s);
    EXPECT_TRUE(complete) << "history on node " << node << " has " << codes.size() << " of "
                          << length << "\n"
                          << tail(daemon.output());
    return codes;
}

}  // namespace bscd::test
