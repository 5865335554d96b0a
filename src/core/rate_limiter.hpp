#pragma once
// A token bucket per client (docs/gateway.md, "Limits"): each client may
// make `burst` requests at once, and `per_second` more each second after.
// A refused request takes nothing, so a client that waits as told is served.
//
// Memory is bounded: at most `max_clients` buckets, the client seen longest
// ago forgotten first. A bucket left alone for burst / per_second seconds is
// full again, no different from a forgotten one; only a flood of more
// distinct clients than that within that time makes the table forget a
// client that had spent some, which then starts afresh (the limit errs
// towards serving). Pure: no clock of its own, no lock (the gateway's
// Admission holds one).

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

namespace bscd {

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    // per_second > 0, burst >= 1, max_clients >= 1.
    RateLimiter(double per_second, double burst, std::size_t max_clients);

    // Whether `client` may make a request at `now` (it is then counted);
    // when not, how long until it may: whole seconds, at least 1, for
    // Retry-After.
    [[nodiscard]] std::optional<std::chrono::seconds> refuse(const std::string& client,
                                                             Clock::time_point now);

    // Clients with a bucket now.
    [[nodiscard]] std::size_t clients() const { return buckets_.size(); }

private:
    struct Bucket {
        std::string client;
        double tokens = 0;
        Clock::time_point updated;
    };
    using Recency = std::list<Bucket>;  // the most recently seen first

    double per_second_;
    double burst_;
    std::size_t max_clients_;
    Recency recency_;
    std::unordered_map<std::string, Recency::iterator> buckets_;
};

}  // namespace bscd
