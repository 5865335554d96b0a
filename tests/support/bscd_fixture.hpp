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
#include "support/subscriber.hpp"
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

    // "Nothing more was published", checked so that a late arrival cannot
    // slip past: sends `sentinel` (a code the test sent no other time) to
    // bscd and succeeds when it is the next message `subscriber` hears.
    // bscd publishes in the order it accepted, so a duplicate of anything
    // before would come first.
    ::testing::AssertionResult sentinel_comes_next(Subscriber& subscriber,
                                                   const std::string& sentinel,
                                                   const std::string& project = "demo");

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
    // is up and bscd has every reply of its handshake: faults are meant for
    // that link, not for its handshake.
    std::unique_ptr<Process> start_bscd_via_proxy(std::vector<std::string> extra = {},
                                                  const std::string& project = "demo");
    // Publisher links made ready since Redis started, as Redis and the proxy
    // see them (not bscd's log): a link with a history is ready once it has
    // loaded the history script (SCRIPT LOAD, which Redis counts); one
    // without (--no-history) once connected (the proxy's connections).
    long long links_ready();
    long long history_length(const std::string& channel = "bscd-demo");

    TcpProxy proxy{redis.host(), redis.port()};

private:
    bool history_kept_ = true;  // of the last bscd started via the proxy
};

}  // namespace bscd::test
