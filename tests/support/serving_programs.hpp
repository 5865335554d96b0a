#pragma once
// Starting a real bscd or bscd-gateway in the foreground and knowing when it
// serves: bscd's own pid in its pid file (one left by a killed bscd does not
// count); the gateway's GET /healthz answering 200.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace bscd::test {

// Whether `pid_file` holds the pid of `daemon` (a bscd that serves).
bool holds_own_pid(const Process& daemon, const std::string& pid_file);

// Runs `argv` (bscd and its arguments) and waits until `pid_file` holds the
// new process' pid. Adds a test failure, with bscd's output, when it exits
// first or `timeout` passes; returns the process either way.
std::unique_ptr<Process> start_serving_bscd(
    const std::vector<std::string>& argv, const std::string& pid_file,
    std::chrono::milliseconds timeout = std::chrono::seconds(15));

struct ServingGateway {
    std::unique_ptr<Process> process;  // never null: on failure, the exited one
    int port = 0;
};

// Runs bscd-gateway with `options` and `--listen 127.0.0.1:PORT` on a free
// port, and waits until GET /healthz answers 200. Tries another port when
// the gateway exits at once (the port was taken in between). Adds a test
// failure, with the gateway's output, when it does not come up.
ServingGateway start_serving_gateway(const std::vector<std::string>& options,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace bscd::test
