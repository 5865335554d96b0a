#include "core/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace bscd {

RateLimiter::RateLimiter(double per_second, double burst, std::size_t max_clients)
    : per_second_(per_second),
      burst_(std::max(1.0, burst)),
      max_clients_(std::max<std::size_t>(1, max_clients)) {}

std::optional<std::chrono::seconds> RateLimiter::refuse(const std::string& client,
                                                        Clock::time_point now) {
    auto found = buckets_.find(client);
    if (found == buckets_.end()) {
        if (buckets_.size() >= max_clients_) {
            buckets_.erase(recency_.back().client);
            recency_.pop_back();
        }
        recency_.push_front(Bucket{client, burst_, now});
        found = buckets_.emplace(client, recency_.begin()).first;
    } else {
        recency_.splice(recency_.begin(), recency_, found->second);
    }
    Bucket& bucket = *found->second;
    if (now > bucket.updated) {
        const std::chrono::duration<double> elapsed = now - bucket.updated;
        bucket.tokens = std::min(burst_, bucket.tokens + elapsed.count() * per_second_);
        bucket.updated = now;
    }
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return std::nullopt;
    }
    const double wait = (1.0 - bucket.tokens) / per_second_;
    return std::chrono::seconds(std::max<long long>(1, std::llround(std::ceil(wait))));
}

}  // namespace bscd
