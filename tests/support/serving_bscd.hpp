#pragma once
// Starting a real bscd in the foreground and knowing when it serves: its own
// pid in its pid file (one left by a killed bscd does not count).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace bscd::test {

// Runs `argv` (bscd and its arguments) and waits until `pid_file` holds the
// new process' pid. Adds a test failure, with bscd's output, when it exits
// first or `timeout` passes; returns the process either way.
std::unique_ptr<Process> start_serving_bscd(
    const std::vector<std::string>& argv, const std::string& pid_file,
    std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace bscd::test
