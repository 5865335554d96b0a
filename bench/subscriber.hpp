#pragma once
// The consumer side of a measurement: its own hiredis connection,
// SUBSCRIBEd to bscd's channel before the constructor returns, so a code
// published afterwards cannot be missed. Reads only after poll() saw data:
// hiredis 0.14 turns a timed-out blocking read into a dead context.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <hiredis/hiredis.h>

#include "options.hpp"

namespace bench {

class Subscriber {
public:
    // Throws std::runtime_error when Redis cannot be reached or does not
    // confirm the subscription within `timeout`.
    Subscriber(const RedisTarget& redis, const std::string& channel,
               std::chrono::milliseconds timeout);
    ~Subscriber();
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;

    // Waits up to `timeout` for the channel's messages; returns how many were
    // taken (0 after a timeout), all that one read() brought. Payloads other
    // than `expected` are counted by unexpected(). Throws std::runtime_error
    // when the connection is lost.
    std::size_t receive(std::chrono::milliseconds timeout);

    void expect_payload(std::string payload) { expected_ = std::move(payload); }
    [[nodiscard]] std::uint64_t unexpected() const { return unexpected_; }

private:
    std::size_t take_buffered();

    redisContext* context_ = nullptr;
    std::string channel_;
    std::string expected_ = "10";
    std::uint64_t unexpected_ = 0;
};

}  // namespace bench
