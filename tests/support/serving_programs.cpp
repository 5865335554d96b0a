#include "support/serving_programs.hpp"

#include <iterator>

#include <gtest/gtest.h>

#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {

bool holds_own_pid(const Process& daemon, const std::string& pid_file) {
    return read_file(pid_file) == std::to_string(daemon.pid()) + "\n";
}

std::unique_ptr<Process> start_serving_bscd(const std::vector<std::string>& argv,
                                            const std::string& pid_file,
                                            std::chrono::milliseconds timeout) {
    auto daemon = std::make_unique<Process>(argv);
    const bool serving =
        wait_until([&] { return holds_own_pid(*daemon, pid_file) || !daemon->running(); }, timeout);
    EXPECT_TRUE(serving && daemon->running()) << "bscd did not start:\n" << daemon->output();
    return daemon;
}

ServingGateway start_serving_gateway(const std::vector<std::string>& options,
                                     std::chrono::milliseconds timeout) {
    ServingGateway gateway;
    for (int attempt = 0; attempt < 3; ++attempt) {
        gateway.port = free_port();
        std::vector<std::string> args{bin("bscd-gateway"), "--listen",
                                      "127.0.0.1:" + std::to_string(gateway.port)};
        args.insert(args.end(), options.begin(), options.end());
        gateway.process = std::make_unique<Process>(args);
        const auto healthy = [&] {
            return http_get(gateway.port, "/healthz", {}, std::chrono::seconds(1)).status == 200;
        };
        if (wait_until([&] { return !gateway.process->running() || healthy(); }, timeout) &&
            gateway.process->running()) {
            return gateway;
        }
    }
    ADD_FAILURE() << "bscd-gateway did not come up:\n" << gateway.process->output();
    return gateway;
}

}  // namespace bscd::test
