#pragma once
// Each test gets its own redis-server and runtime directory, and starts real
// bscd processes in them.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/tcp_proxy.hpp"
#include "support/temp_dir.hpp"

namespace bscd::test {

class BscdTest : public ::testing::Test {
protected:
    BscdTest() = default;
    explicit BscdTest(RedisServer::Options redis_options) : redis(std::move(redis_options)) {}

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

// bscd reaching Redis through a TCP proxy the test controls (cut, restore,
// hold replies); subscribers and the test itself reach Redis directly.
class ProxiedBscdTest : public BscdTest {
protected:
    ProxiedBscdTest() = default;
    explicit ProxiedBscdTest(RedisServer::Options redis_options)
        : BscdTest(std::move(redis_options)) {}

    // Starts bscd with -P at the proxy and waits until its publisher's link
    // is up: faults are meant for that link, not for its handshake.
    std::unique_ptr<Process> start_bscd_via_proxy(std::vector<std::string> extra = {},
                                                  const std::string& project = "demo");
    // "Connected"/"Reconnected" lines bscd logged (it runs with -v).
    static std::size_t connections_made(const Process& daemon);
    long long history_length(const std::string& channel = "bscd-demo");

    TcpProxy proxy{redis.host(), redis.port()};
};

}  // namespace bscd::test
