#include "support/serving_bscd.hpp"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "support/wait.hpp"

namespace bscd::test {

std::unique_ptr<Process> start_serving_bscd(const std::vector<std::string>& argv,
                                            const std::string& pid_file,
                                            std::chrono::milliseconds timeout) {
    auto daemon = std::make_unique<Process>(argv);
    const std::string own_pid = std::to_string(daemon->pid()) + "\n";
    const bool serving = wait_until(
        [&] {
            std::ifstream file(pid_file);
            const std::string content((std::istreambuf_iterator<char>(file)),
                                      std::istreambuf_iterator<char>());
            return content == own_pid || !daemon->running();
        },
        timeout);
    EXPECT_TRUE(serving && daemon->running()) << "bscd did not start:\n" << daemon->output();
    return daemon;
}

}  // namespace bscd::test
