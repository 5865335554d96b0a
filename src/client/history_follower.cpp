#include "client/history_follower.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "core/backoff.hpp"

namespace bscd::client {

namespace {
constexpr std::size_t page_size = 1000;
constexpr auto longest_block = std::chrono::seconds(5);  // bounds one XREAD BLOCK
}  // namespace

HistoryFollower::HistoryFollower(RedisOptions redis, std::string key)
    : redis_(std::move(redis)), key_(std::move(key)) {}

SyncClient& HistoryFollower::connection() {
    if (!client_) {
        client_.emplace(redis_);
    }
    return *client_;
}

std::vector<StreamEntry> HistoryFollower::read_all(EntryId after) {
    std::vector<StreamEntry> all;
    for (;;) {
        auto page = connection().read_stream(key_, after, page_size);
        if (page.empty()) {
            return all;
        }
        after = page.back().id;
        std::move(page.begin(), page.end(), std::back_inserter(all));
    }
}

bool HistoryFollower::follow(EntryId after, const EntryHandler& on_entry,
                             std::optional<Clock::time_point> deadline,
                             const std::function<void()>& on_tick) {
    const Clock::duration longest_wait =
        on_tick ? Clock::duration(std::chrono::seconds(1)) : Clock::duration(longest_block);
    connection();  // Redis unreachable at the start is an error, not a wait
    Backoff backoff = Backoff::reconnect();
    bool replayed = false;
    bool link_lost = false;
    for (;;) {
        const auto now = Clock::now();
        if (deadline && now >= *deadline) {
            return false;
        }
        try {
            std::vector<StreamEntry> entries;
            if (!replayed) {
                entries = connection().read_stream(key_, after, page_size);
                replayed = entries.empty();  // the stored history is behind us
            } else {
                auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline ? std::min<Clock::duration>(*deadline - now, longest_wait)
                             : longest_wait);
                entries = connection().wait_stream(key_, after, page_size,
                                                   std::max(wait, std::chrono::milliseconds(1)));
            }
            if (link_lost) {
                (void)std::fprintf(stderr, "bsc: reconnected to Redis at %s\n",
                                   redis_.address().c_str());
                link_lost = false;
            }
            backoff.reset();
            for (const StreamEntry& entry : entries) {
                after = entry.id;
                if (!on_entry(entry)) {
                    return true;
                }
            }
            if (on_tick) {
                on_tick();
            }
        } catch (const RedisRefused&) {
            throw;  // a permission or password: trying again will not change it
        } catch (const RedisError& error) {
            client_.reset();
            if (!link_lost) {
                (void)std::fprintf(stderr, "bsc: %s; reconnecting\n", error.what());
                link_lost = true;
            }
            auto pause = backoff.next();
            if (deadline) {
                pause = std::min(pause, std::chrono::duration_cast<std::chrono::milliseconds>(
                                            *deadline - Clock::now()));
            }
            std::this_thread::sleep_for(std::max(pause, std::chrono::milliseconds(0)));
            replayed = false;  // catch up with what came meanwhile, then wait again
        }
    }
}

}  // namespace bscd::client
