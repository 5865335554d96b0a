#pragma once
// A Redis subscriber for tests: its own connection, SUBSCRIBEd before the
// constructor returns, so nothing published afterwards can be missed.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "support/redis_connection.hpp"

namespace bscd::test {

class RedisServer;

class Subscriber {
public:
    // Connects to the server over TCP (authenticating when it has a
    // password), SUBSCRIBEs to `channel` and waits for the confirmation.
    // Throws std::runtime_error on failure.
    Subscriber(const RedisServer& server, const std::string& channel,
               std::chrono::milliseconds timeout = std::chrono::seconds(5));
    Subscriber(const std::string& host, int port, const std::string& channel,
               std::chrono::milliseconds timeout = std::chrono::seconds(5),
               const std::string& password = {});
    Subscriber(Subscriber&&) noexcept = default;
    Subscriber& operator=(Subscriber&&) noexcept = default;

    const std::string& channel() const { return channel_; }

    // The payload of the next message on the channel, or nullopt when none
    // arrives within `timeout`; the connection stays usable after a timeout.
    // Throws std::runtime_error when the connection is lost.
    std::optional<std::string> next(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // Payloads until `count` messages arrived or the deadline passed.
    std::vector<std::string> collect(std::size_t count,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // "Nothing more came", for when every publisher has stopped: publishes a
    // message of the test's own on the channel and returns whatever is heard
    // next, which is that message unless something else was published
    // before (Redis delivers in the order it ran the PUBLISHes).
    std::optional<std::string> next_after_own_sentinel(RedisServer& server);
    static constexpr const char* own_sentinel = "test-sentinel";

private:
    // A message already read from the socket, if there is one.
    std::optional<std::string> buffered();

    std::string channel_;
    RedisContextPtr context_;
};

}  // namespace bscd::test
