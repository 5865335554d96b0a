#pragma once
// The log lines of refused requests (a missing or wrong token, an origin not
// allowed, a body whose framing is refused), capped across the gateway: a
// client needs no token to be refused thousands of times a second, and one
// line each would fill the disk. The first `lines` refusals of an interval
// get their line each; the others are counted, and once the interval is over
// one line says how many there were: "N more refusals not logged in the last
// S s (the last from PEER)". That line comes with the next refusal, or when
// flush_summary() is called (the gateway's periodic sweep may do so, so that
// the count does not wait for another refusal).
//
// Thread-safe (a small mutex): one instance, refusal_log(), serves every
// connection of every event loop.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace bscd {

class RefusalLog {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t default_lines = 20;
    static constexpr Clock::duration default_interval = std::chrono::seconds(10);

    explicit RefusalLog(std::size_t lines = default_lines,
                        Clock::duration interval = default_interval);

    // Whether the refusal of `peer`'s request now gets a line of its own
    // (the caller writes it). Logs the summary of an interval that has ended
    // first, when it had refusals not logged.
    [[nodiscard]] bool admit(std::string_view peer, Clock::time_point now = Clock::now());

    // Logs the summary of an interval that has ended with refusals not
    // logged; nothing otherwise.
    void flush_summary(Clock::time_point now = Clock::now());

private:
    // Ends the interval when it is over, logging its summary. Under mutex_.
    void end_interval_if_over(Clock::time_point now);

    const std::size_t lines_;
    const Clock::duration interval_;
    std::mutex mutex_;
    std::optional<Clock::time_point> started_;  // the interval's; none before a refusal
    std::size_t logged_ = 0;                    // in this interval
    std::size_t unlogged_ = 0;                  // in this interval
    std::string last_unlogged_peer_;
};

// The gateway's one instance.
RefusalLog& refusal_log();

}  // namespace bscd
