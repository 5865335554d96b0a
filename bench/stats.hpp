#pragma once
// Summaries of measured durations, printed as `key=value` tokens that
// bench/run.sh reads.

#include <chrono>
#include <string>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

// Seconds between two instants of Clock.
double seconds_between(Clock::time_point from, Clock::time_point to);

// p50, p90, p99, p99.9 and max of `samples_us` (microseconds), as
// "<prefix>p50_us=... <prefix>p90_us=... ..." with `prefix` before each key.
// Sorts the samples. Empty samples give zeros.
std::string percentiles_us(std::vector<double>& samples_us, const std::string& prefix);

// The value at quantile q (0..1) of sorted samples (nearest rank).
double quantile(const std::vector<double>& sorted, double q);

// "%.<digits>f" without iostreams.
std::string fixed(double value, int digits);

}  // namespace bench
