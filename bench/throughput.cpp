#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "process_stats.hpp"
#include "producers.hpp"
#include "scenarios.hpp"
#include "stats.hpp"
#include "subscriber.hpp"

namespace bench {

int run_throughput(const Options& options) {
    ProducerPlan plan;
    plan.socket_path = options.text("socket");
    const RedisTarget redis = redis_target(options);
    const std::string channel = options.text("channel");
    plan.mode = parse_mode(options.text("mode"));
    const auto producers = static_cast<std::size_t>(options.integer("producers", 1, 1, 1000));
    plan.batch = static_cast<std::size_t>(options.integer("batch", 64, 1, 1000));
    const double seconds = options.real("seconds", 3, 0.1, 60);
    // Accepted codes allowed on their way to Redis at once; 0 floods bscd.
    plan.window = static_cast<std::uint64_t>(options.integer("window", 10'000, 0, 10'000'000));
    // How long the subscriber waits for a missing code once producers are done.
    const double drain_seconds = options.real("drain-timeout", 10, 0.1, 60);
    auto watched = parse_watched(options.all("watch"));
    options.reject_unknown();

    Subscriber subscriber(redis, channel, std::chrono::milliseconds(2000));
    Tally tally;
    mark_cpu(watched);
    const auto start = Clock::now();
    plan.deadline =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<std::thread> threads;
    if (plan.mode == Mode::Pipeline) {
        threads.emplace_back(produce_pipelined, std::cref(plan), producers, std::ref(tally));
    } else {
        for (std::size_t i = 0; i < producers; ++i) {
            threads.emplace_back(produce_per_connection, std::cref(plan), std::ref(tally));
        }
    }

    // Count deliveries while the producers run, then until every accepted
    // code arrived, or none came for `drain_seconds`.
    std::uint64_t received = 0;
    auto last_received = start;
    auto last_progress = start;
    try {
        for (;;) {
            const std::size_t n = subscriber.receive(std::chrono::milliseconds(50));
            const auto now = Clock::now();
            if (n > 0) {
                received += n;
                tally.set_received(received);
                last_received = now;
                last_progress = now;
            }
            if (tally.finished.load() == threads.size()) {
                if (received >= tally.accepted.load()) {
                    break;
                }
                last_progress = std::max(last_progress, tally.last_finish());
                if (seconds_between(last_progress, now) > drain_seconds) {
                    break;
                }
            }
        }
    } catch (...) {
        for (auto& thread : threads) {  // they stop at the deadline
            thread.join();
        }
        throw;
    }
    for (auto& thread : threads) {
        thread.join();
    }
    const std::uint64_t sent = tally.sent.load();
    const std::uint64_t accepted = tally.accepted.load();
    const std::uint64_t lost = accepted > received ? accepted - received : 0;
    const double send_s = seconds_between(start, tally.last_finish());
    std::string error = tally.first_error();  // one token: spaces would split key=value
    for (char& c : error) {
        c = c == ' ' ? '_' : c;
    }
    const double deliver_s = seconds_between(start, last_received);
    (void)std::printf(
        "throughput mode=%s producers=%zu batch=%zu window=%llu seconds=%s sent=%llu accepted=%llu "
        "rejected=%llu errors=%llu received=%llu lost=%llu unexpected=%llu send_s=%s "
        "deliver_s=%s accepted_per_s=%s delivered_per_s=%s%s%s%s\n",
        mode_name(plan.mode), producers, plan.mode == Mode::Pipeline ? plan.batch : 1,
        static_cast<unsigned long long>(plan.window), fixed(seconds, 1).c_str(),
        static_cast<unsigned long long>(sent), static_cast<unsigned long long>(accepted),
        static_cast<unsigned long long>(sent - accepted),
        static_cast<unsigned long long>(tally.errors.load()),
        static_cast<unsigned long long>(received), static_cast<unsigned long long>(lost),
        static_cast<unsigned long long>(subscriber.unexpected()), fixed(send_s, 3).c_str(),
        fixed(deliver_s, 3).c_str(),
        fixed(send_s > 0 ? static_cast<double>(accepted) / send_s : 0, 0).c_str(),
        fixed(deliver_s > 0 ? static_cast<double>(received) / deliver_s : 0, 0).c_str(),
        cpu_report(watched, static_cast<double>(received)).c_str(),
        error.empty() ? "" : " first_error=", error.c_str());
    return lost == 0 && subscriber.unexpected() == 0 ? 0 : 3;
}

}  // namespace bench
