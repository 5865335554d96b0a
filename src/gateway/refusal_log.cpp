#include "gateway/refusal_log.hpp"

#include <spdlog/spdlog.h>

namespace bscd {

RefusalLog::RefusalLog(std::size_t lines, Clock::duration interval)
    : lines_(lines), interval_(interval) {}

bool RefusalLog::admit(std::string_view peer, Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    end_interval_if_over(now);
    if (!started_) {
        started_ = now;
        logged_ = 0;
        unlogged_ = 0;
    }
    if (logged_ < lines_) {
        ++logged_;
        return true;
    }
    ++unlogged_;
    last_unlogged_peer_.assign(peer);
    return false;
}

void RefusalLog::flush_summary(Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    end_interval_if_over(now);
}

void RefusalLog::end_interval_if_over(Clock::time_point now) {
    if (!started_ || now - *started_ < interval_) {
        return;
    }
    if (unlogged_ > 0) {
        // Whole seconds, rounded up: the refusals counted all came within.
        const auto seconds = std::chrono::ceil<std::chrono::seconds>(now - *started_).count();
        spdlog::info("{} more refusals not logged in the last {} s (the last from {})", unlogged_,
                     seconds, last_unlogged_peer_);
    }
    started_.reset();
    logged_ = 0;
    unlogged_ = 0;
    last_unlogged_peer_.clear();
}

RefusalLog& refusal_log() {
    static RefusalLog log;
    return log;
}

}  // namespace bscd
