#include "client/live_follower.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "core/backoff.hpp"
#include "core/unix_ms.hpp"

namespace bscd::client {

LiveFollower::LiveFollower(RedisOptions redis, std::string channel)
    : redis_(std::move(redis)), channel_(std::move(channel)) {}

bool LiveFollower::follow(const HistoryFollower::EntryHandler& on_entry,
                          std::optional<Clock::time_point> deadline,
                          const std::function<void()>& on_tick) {
    std::optional<SyncClient> client(std::in_place, redis_);  // unreachable: an error
    client->subscribe(channel_);
    Backoff backoff = Backoff::reconnect();
    EntryId last;
    for (;;) {
        const auto now = Clock::now();
        if (deadline && now >= *deadline) {
            return false;
        }
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline ? std::min<Clock::duration>(*deadline - now, std::chrono::seconds(1))
                     : Clock::duration(std::chrono::seconds(1)));
        try {
            if (!client) {
                client.emplace(redis_);
                client->subscribe(channel_);
                (void)std::fprintf(stderr, "bsc: subscribed again to %s\n", channel_.c_str());
                backoff.reset();
            }
            if (auto payload = client->next_message(std::max(wait, std::chrono::milliseconds(1)))) {
                const auto ms = static_cast<std::uint64_t>(unix_ms_now());
                last = ms > last.ms ? EntryId{ms, 0} : EntryId{last.ms, last.seq + 1};
                if (!on_entry(
                        StreamEntry{last, {{"code", *payload}, {"ts", std::to_string(ms)}}})) {
                    return true;
                }
            }
        } catch (const RedisError& error) {
            if (client) {
                (void)std::fprintf(stderr,
                                   "bsc: %s; subscribing again (codes published meanwhile are "
                                   "not seen: pub/sub keeps nothing)\n",
                                   error.what());
                client.reset();
            }
            std::this_thread::sleep_for(backoff.next());
        }
        if (on_tick) {
            on_tick();
        }
    }
}

}  // namespace bscd::client
