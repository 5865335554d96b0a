#include "support/wait.hpp"

#include <stdexcept>
#include <thread>

namespace bscd::test {

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return pred();
}

void await(const std::string& what, std::chrono::milliseconds timeout,
           const std::function<std::string()>& missing) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last;
    while (true) {
        try {
            last = missing();
        } catch (const std::exception& e) {
            last = e.what();
        }
        if (last.empty()) {
            return;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            throw std::runtime_error(what + ": not within " +
                                     std::to_string(timeout.count()).append(" ms: ").append(last));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace bscd::test
