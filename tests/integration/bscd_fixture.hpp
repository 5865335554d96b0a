#pragma once
// Each test gets its own redis-server and runtime directory, and starts real
// bscd processes in them.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace bscd::test {

class BscdTest : public ::testing::Test {
protected:
    // bscd's arguments for `project` in this test's directory and Redis.
    std::vector<std::string> bscd_args(const std::vector<std::string>& extra = {},
                                       const std::string& project = "demo") const;

    // Starts bscd in the foreground and waits until it serves (pid file
    // present). Fails the test, with bscd's output, when it does not.
    std::unique_ptr<Process> start_bscd(const std::vector<std::string>& extra = {},
                                        const std::string& project = "demo");

    std::string socket_path(const std::string& project = "demo") const;
    std::string pid_file(const std::string& project = "demo") const;
    // The code values in the history stream of `channel`, oldest first.
    std::vector<std::string> history(const std::string& channel = "bscd-demo");

    RedisServer redis;
    TempDir dir;
};

}  // namespace bscd::test
