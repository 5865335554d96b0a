#include "redis/publisher.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include <boost/asio/post.hpp>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "core/project.hpp"
#include "core/unix_ms.hpp"
#include "redis/stream_reply.hpp"

namespace bscd {

Publisher::Publisher(boost::asio::io_context& io, const RedisOptions& redis,
                     PublisherOptions options, EntryId history_last)
    : io_(io),
      options_(std::move(options)),
      mode_(*options_.publishing),
      link_(io, redis, "publisher", history_key(options_.history.channel),
            RedisLinkPolicy{options_.connect_timeout, options_.backoff_initial,
                            redis.mode() == RedisMode::Standalone
                                ? options_.backoff_cap
                                : std::min(options_.backoff_cap, options_.failover_backoff_cap),
                            /*healthy_when_ready=*/false, /*log_outages=*/false}),
      replay_tail_(redis.mode() != RedisMode::Standalone && mode_.resends_without_duplicates),
      outbox_(options_.outbox_capacity),
      watchdog_(io) {
    ids_.continue_after(history_last);
}

void Publisher::start() {
    stopped_ = false;
    link_.start([this] { on_ready(); }, [this](const std::string& reason) { on_lost(reason); });
    watch_replies();
}

void Publisher::on_ready() {
    const std::uint64_t link = ++link_number_;
    if (!mode_.loads_script) {
        on_link_ready();
        return;
    }
    // On every new link: the node may be another one (a failover, a
    // resharding) that never saw the script.
    link_.connection().command(
        {"SCRIPT", "LOAD", std::string(history_script())}, [this, link](const redisReply* reply) {
            if (reply == nullptr || link != link_number_) {
                return;
            }
            if (reply->type != REDIS_REPLY_STRING) {
                fail_link(reply_text(*reply),
                          "SCRIPT LOAD failed: " + std::string(reply_text(*reply)));
                return;
            }
            script_sha_.assign(reply->str, reply->len);
            on_link_ready();
        });
}

void Publisher::on_link_ready() {
    link_ready_ = true;
    if (outbox_.empty()) {
        link_.healthy();  // else once a batch is taken: a link Redis refuses to write on
                          // (NOPERM, OOM) is retried with backoff, not every 100 ms
    }
    const std::string address = link_.address();
    const bool reconnected = link_was_lost_;
    if (reconnected) {
        spdlog::info("Reconnected to Redis at {}; {} codes to send", address, outbox_.size());
    } else {
        spdlog::info("Connected to Redis at {}", address);
    }
    link_was_lost_ = false;
    failed_attempts_ = 0;
    if (reconnected && replay_tail_) {
        send_tail();
    }
    pump();
}

void Publisher::on_lost(const std::string& reason) {
    forget_link();
    if (stopped_) {
        return;
    }
    const std::string address = link_.address();
    if (!link_was_lost_) {
        spdlog::warn("Lost Redis at {}: {}; {} codes held, reconnecting", address, reason,
                     outbox_.size());
    } else if (++failed_attempts_ % 10 == 0) {
        spdlog::warn("Still no Redis at {} after {} attempts: {}; {} codes held", address,
                     failed_attempts_, reason, outbox_.size());
    } else {
        spdlog::debug("Redis at {} unreachable: {}; retrying", address, reason);
    }
    link_was_lost_ = true;
}

Delivery Publisher::stamp(const StatusCode& code) {
    const std::int64_t now = unix_ms_now();
    return Delivery{ids_.next(static_cast<std::uint64_t>(now)), &code, now};
}

bool Publisher::send(const Delivery& delivery) {
    if (!outbox_.push(delivery)) {
        return false;
    }
    schedule_pump();
    return true;
}

void Publisher::replay(const std::vector<Delivery>& held) {
    for (const Delivery& delivery : held) {
        outbox_.restore(delivery);
        ids_.continue_after(delivery.id);
    }
    if (!held.empty()) {
        schedule_pump();
    }
}

void Publisher::schedule_pump() {
    // Deferred to the end of this loop turn, so that codes arriving together
    // leave together in one script call.
    if (pump_scheduled_) {
        return;
    }
    pump_scheduled_ = true;
    boost::asio::post(io_, [this] {
        pump_scheduled_ = false;
        pump();
    });
}

void Publisher::pump() {
    if (!connected()) {
        return;
    }
    while (outbox_.unsent() > 0 && batches_in_flight_ < options_.batches_in_flight) {
        const BatchContext context{outbox_.last_in_flight(), outbox_.possibly_written_up_to()};
        const auto batch = outbox_.next_batch(options_.batch_size);
        const std::uint64_t link = link_number_;
        const std::size_t count = batch.size();
        if (batches_in_flight_ == 0) {
            last_reply_ = std::chrono::steady_clock::now();
        }
        ++batches_in_flight_;
        mode_.send(
            link_, {script_sha_, options_.history, batch, context},
            [this, link, count](const redisReply* reply) { on_batch_reply(link, count, reply); });
        if (options_.replicas > 0) {
            // The script always ends with a replicated write, so this
            // WAIT covers the batch even when every code was there already.
            link_.command({"WAIT", std::to_string(options_.replicas),
                           std::to_string(options_.replica_wait.count())},
                          [this, link](const redisReply* reply) { on_wait_reply(link, reply); });
        }
    }
}

void Publisher::on_batch_reply(std::uint64_t link, std::size_t count, const redisReply* reply) {
    if (reply == nullptr || link != link_number_) {
        return;  // that link is gone; its batches are being sent again
    }
    last_reply_ = std::chrono::steady_clock::now();
    const auto outcome = mode_.outcome(*reply, count);
    // The script stops short of the batch's end only at a conflict.
    if (!outcome || outcome->processed > count ||
        (outcome->processed < count) != outcome->conflict_last.has_value()) {
        // NOSCRIPT after a SCRIPT FLUSH, OOM, a read-only replica...: one way
        // back for all of them: a new link, the script loaded again, a resend.
        const std::string_view error =
            reply->type == REDIS_REPLY_ERROR ? reply_text(*reply) : std::string_view();
        fail_link(error, "publishing failed: " + (error.empty() ? std::string("unexpected reply")
                                                                : std::string(error)));
        return;
    }
    if (outcome->processed > outcome->written) {
        spdlog::debug("{} of {} codes were already in Redis (resent after a lost reply)",
                      outcome->processed - outcome->written, count);
    }
    if (outcome->conflict_last) {
        // With replicas the codes processed wait for their WAIT, which dies
        // with this link: they stay held and are found in place next time.
        if (options_.replicas == 0 && outcome->processed > 0) {
            confirm(outcome->processed);
        }
        move_past_conflict(*outcome->conflict_last,
                           options_.replicas == 0 ? 0 : outcome->processed);
        return;
    }
    if (options_.replicas > 0) {
        awaiting_replicas_.push_back(outcome->processed);
        return;  // the WAIT that follows confirms it
    }
    --batches_in_flight_;
    confirm(outcome->processed);
    link_.healthy();
    pump();
}

void Publisher::on_wait_reply(std::uint64_t link, const redisReply* reply) {
    if (reply == nullptr || link != link_number_ || awaiting_replicas_.empty()) {
        return;  // an old link's, or its script failed and the link with it
    }
    last_reply_ = std::chrono::steady_clock::now();
    if (reply->type != REDIS_REPLY_INTEGER ||
        static_cast<std::size_t>(reply->integer) < options_.replicas) {
        // Replicas down or lagging: nothing is confirmed. A new link resends
        // what is held (the script finds it in place) and waits again, with
        // backoff; the outbox fills meanwhile and, full, answers ERR.
        const std::string got = reply->type == REDIS_REPLY_INTEGER
                                    ? std::to_string(reply->integer)
                                    : std::string(reply_text(*reply));
        fail_link({}, "WAIT: " + got + " of " + std::to_string(options_.replicas) +
                          " replicas acknowledged within " +
                          std::to_string(options_.replica_wait.count()) + " ms");
        return;
    }
    const std::size_t count = awaiting_replicas_.front();
    awaiting_replicas_.pop_front();
    --batches_in_flight_;
    if (count > 0) {
        confirm(count);
    }
    link_.healthy();
    pump();
}

void Publisher::fail_link(std::string_view error, const std::string& reason) {
    if (error.empty()) {
        link_.fail(reason);
    } else {
        link_.fail_after_error(error, reason);
    }
}

void Publisher::send_tail() {
    // Confirmed codes older than tail_age cannot be missing: the failover
    // that lost them would have been noticed long ago.
    const auto oldest = std::chrono::steady_clock::now() - options_.tail_age;
    while (!recent_.empty() && recent_.front().second < oldest) {
        recent_.pop_front();
    }
    std::vector<Delivery> tail;
    tail.reserve(recent_.size());
    for (const auto& [delivery, when] : recent_) {
        tail.push_back(delivery);
    }
    const std::uint64_t link = link_number_;
    for (std::size_t first = 0; first < tail.size(); first += options_.batch_size) {
        const std::span<const Delivery> batch(tail.data() + first,
                                              std::min(options_.batch_size, tail.size() - first));
        // Sent ahead of anything held, on the same link: the order stays.
        // Written before, they may have been trimmed since: not a conflict.
        const BatchContext context{std::nullopt, tail.back().id};
        link_.command(history_script_call(script_sha_, options_.history, batch, context),
                      [this, link](const redisReply* reply) {
                          if (reply == nullptr || link != link_number_) {
                              return;
                          }
                          const auto outcome = parse_history_reply(reply);
                          if (!outcome) {
                              fail_link(reply->type == REDIS_REPLY_ERROR ? reply_text(*reply)
                                                                         : std::string_view(),
                                        "sending the tail again failed");
                              return;
                          }
                          if (outcome->written > 0) {
                              rewritten_from_tail_ += outcome->written;
                              spdlog::warn(
                                  "Redis at {} lacked {} codes of {} confirmed before the link was "
                                  "lost (a failover lost them); written again",
                                  link_.address(), outcome->written, options_.history.channel);
                          }
                      });
    }
}

void Publisher::remember_confirmed(std::size_t count) {
    if (!replay_tail_) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < count; ++i) {
        recent_.emplace_back(outbox_.entries()[i], now);
    }
    while (recent_.size() > options_.tail_limit) {
        recent_.pop_front();
    }
}

void Publisher::confirm(std::size_t count) {
    const auto& entries = outbox_.entries();
    const EntryId newest = entries[count - 1].id;
    const bool final = std::any_of(entries.begin(), entries.begin() + static_cast<long>(count),
                                   [](const Delivery& d) { return d.code->is_final(); });
    remember_confirmed(count);
    outbox_.confirm(count);
    confirmed_ += count;
    if (on_confirmed_) {
        on_confirmed_(newest);
    }
    if (final && on_final_confirmed_) {
        on_final_confirmed_();
    }
    if (outbox_.empty()) {
        auto waiters = std::exchange(drained_waiters_, {});
        for (auto& done : waiters) {
            done();
        }
    }
}

void Publisher::move_past_conflict(EntryId last, std::size_t processed) {
    // Replies come in order, so every code sent before the conflicting one
    // is confirmed: what is held now is that code and all after it. Batches
    // still in flight behind it write nothing (the script's `after` check),
    // and their replies die with the link dropped below.
    const std::string& channel = options_.history.channel;
    if (last.ms == std::numeric_limits<std::uint64_t>::max()) {
        // EntryIdSequence has no millisecond after this one to move to.
        spdlog::error(
            "Conflict in the history of {}: its last id {} leaves no room for ids after it; {} "
            "codes held until {} is deleted",
            channel, last.str(), outbox_.size(), history_key(channel));
        link_.fail("conflict in the history of " + channel);
        return;
    }
    const auto moved =
        outbox_.restamp(processed, last, ids_, static_cast<std::uint64_t>(unix_ms_now()));
    if (on_restamped_) {
        on_restamped_(moved);
    }
    spdlog::warn(
        "Conflict in the history of {}: it holds entries bscd did not write, up to {}, in the "
        "way of its ids (another writer, or a second bscd for this project?); moving {} codes "
        "past them",
        channel, last.str(), moved.size());
    // A new link, so that nothing answered on the old one counts, and all
    // that is held goes again under its new ids.
    link_.fail("sending " + std::to_string(moved.size()) + " codes again under new ids");
}

void Publisher::watch_replies() {
    watchdog_.expires_after(std::chrono::seconds(1));
    watchdog_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopped_) {
            return;
        }
        if (batches_in_flight_ > 0 &&
            std::chrono::steady_clock::now() - last_reply_ > options_.reply_timeout) {
            link_.fail("no reply for " + std::to_string(options_.reply_timeout.count()) + " ms");
        }
        watch_replies();
    });
}

void Publisher::when_drained(std::function<void()> done) {
    if (outbox_.empty()) {
        done();
        return;
    }
    drained_waiters_.push_back(std::move(done));
}

void Publisher::forget_link() {
    // Replies still to come belong to the old link and are ignored; nothing
    // it sent is confirmed, so all that is held goes again on the next one.
    ++link_number_;
    link_ready_ = false;
    script_sha_.clear();
    batches_in_flight_ = 0;
    awaiting_replicas_.clear();
    outbox_.resend_all();
}

void Publisher::stop() {
    stopped_ = true;
    watchdog_.cancel();
    link_.stop();
    forget_link();
}

}  // namespace bscd
