#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace bench {

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

double quantile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) {
        return 0;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::string fixed(double value, int digits) {
    char text[64];
    (void)std::snprintf(text, sizeof text, "%.*f", digits, value);
    return text;
}

std::string percentiles_us(std::vector<double>& samples_us, const std::string& prefix) {
    std::sort(samples_us.begin(), samples_us.end());
    std::string out;
    const std::pair<const char*, double> points[] = {
        {"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p999", 0.999}, {"max", 1.0}};
    for (const auto& [name, q] : points) {
        out +=
            (out.empty() ? "" : " ") + prefix + name + "_us=" + fixed(quantile(samples_us, q), 1);
    }
    return out;
}

}  // namespace bench
