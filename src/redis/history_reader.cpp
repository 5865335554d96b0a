#include "redis/history_reader.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

namespace bscd {

namespace {
constexpr auto ping_interval = std::chrono::seconds(1);
}  // namespace

HistoryReader::HistoryReader(boost::asio::io_context& io, RedisOptions options,
                             std::function<void()> on_ready)
    : link_(io, std::move(options), "history reader"),
      on_ready_(std::move(on_ready)),
      ping_timer_(io) {}

void HistoryReader::start() {
    link_.start(
        [this] {
            ping_overdue_ = false;
            pings_answered_ = pings_sent_;
            if (on_ready_) {
                on_ready_();
            }
        },
        [](const std::string& /*reason*/) {});
    schedule_ping();
}

void HistoryReader::stop() {
    ping_timer_.cancel();
    link_.stop();
}

bool HistoryReader::read_after(const std::string& key, const EntryId& after, std::size_t count,
                               EntriesHandler done) {
    if (!link_.ready()) {
        return false;
    }
    return link_.connection().command(
        {"XRANGE", key, "(" + after.str(), "+", "COUNT", std::to_string(count)},
        [key, done = std::move(done)](const redisReply* reply) {
            if (reply == nullptr) {
                done(std::nullopt);
                return;
            }
            if (reply->type == REDIS_REPLY_ERROR) {
                spdlog::error("Redis answered XRANGE {} with an error: {}", key,
                              reply_text(*reply));
                done(std::nullopt);
                return;
            }
            auto entries = parse_stream_entries(*reply);
            if (!entries) {
                spdlog::error("Redis sent a malformed stream entry in {}", key);
            }
            done(std::move(entries));
        });
}

void HistoryReader::schedule_ping() {
    ping_timer_.expires_after(ping_interval);
    ping_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            ping();
            schedule_ping();
        }
    });
}

void HistoryReader::ping() {
    if (!link_.ready()) {
        return;
    }
    // Two intervals without an answer: the previous PING is still waiting.
    if (pings_sent_ > pings_answered_ + 1) {
        ping_overdue_ = true;
        link_.fail("Redis did not answer PING within 2 s");
        if (on_unresponsive_) {
            on_unresponsive_();
        }
        return;
    }
    ++pings_sent_;
    link_.connection().command({"PING"}, [this](const redisReply* reply) {
        if (reply != nullptr && reply->type != REDIS_REPLY_ERROR) {
            ++pings_answered_;
            ping_overdue_ = pings_sent_ > pings_answered_ + 1;
        }
    });
}

}  // namespace bscd
