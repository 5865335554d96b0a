#pragma once
// Reconnection delays: start small so a blip costs little, double up to a cap
// so a long outage does not hammer Redis.

#include <algorithm>
#include <chrono>

namespace bscd {

class Backoff {
public:
    using Duration = std::chrono::milliseconds;
    Backoff(Duration initial, Duration cap) : initial_(initial), cap_(cap), next_(initial) {}

    Duration next() {
        Duration current = next_;
        next_ = std::min(cap_, next_ * 2);
        return current;
    }
    void reset() { next_ = initial_; }

    // Reconnecting to Redis, as every program does unless told otherwise.
    static constexpr Duration reconnect_initial{100};
    static constexpr Duration reconnect_cap{5000};
    static Backoff reconnect() { return {reconnect_initial, reconnect_cap}; }

private:
    Duration initial_;
    Duration cap_;
    Duration next_;
};

}  // namespace bscd
