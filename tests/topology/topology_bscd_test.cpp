#include "topology_bscd_test.hpp"

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/history_codes.hpp"
#include "support/serving_programs.hpp"
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
    return start_serving_bscd(args, dir.file("bscd-demo.pid"), 15s);
}

void TopologyBscdTest::send_until(ProducerClient& client, std::size_t until) {
    while (stream.sent() < until) {
        const auto refused = stream.send(client, std::min(chunk, until - stream.sent()));
        ASSERT_TRUE(refused.empty()) << refused.front();
    }
}

bool TopologyBscdTest::send_until_accepted(ProducerClient& client, std::size_t until,
                                           std::chrono::milliseconds timeout) {
    return wait_until(
        [&] {
            if (stream.accepted().size() < until) {
                stream.send(client, 1);
            }
            return stream.accepted().size() >= until;
        },
        timeout);
}

void TopologyBscdTest::send_during(ProducerClient& client, const std::function<void()>& fault) {
    std::atomic<bool> running{true};
    std::thread producer([&] {
        while (running && stream.sent() + chunk <= stream.size()) {
            const auto refused = stream.send(client, chunk);
            EXPECT_TRUE(refused.empty()) << refused.front();
            std::this_thread::sleep_for(20ms);  // pacing, not synchronisation
        }
    });
    try {
        fault();
    } catch (...) {
        running = false;
        producer.join();
        throw;
    }
    running = false;
    producer.join();
    EXPECT_LT(stream.sent(), stream.size()) << "the codes ran out before the fault was over";
}

int TopologyBscdTest::start_gateway() {
    std::vector<std::string> options{"--codes", stream.catalog_file()};
    const auto nodes = topology();
    options.insert(options.end(), nodes.begin(), nodes.end());
    auto started = start_serving_gateway(options);
    gateway = std::move(started.process);
    return started.port;
}

std::vector<std::string> TopologyBscdTest::codes_of(const std::vector<SseEvent>& events) {
    std::vector<std::string> codes;
    codes.reserve(events.size());
    for (const auto& event : events) {
        codes.push_back(std::to_string(nlohmann::json::parse(event.data).value("code", 0)));
    }
    return codes;
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
