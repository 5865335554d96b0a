#pragma once
// Takes accepted codes and gets each into Redis exactly once, in order:
// an Outbox holds them until Redis confirms; batches go out pipelined
// through the history script; a lost link is re-established with backoff and
// everything unconfirmed is written again (the script skips what had landed).
// When the history holds entries bscd did not write in the way of its ids
// (another writer, a second bscd for the project), the codes held move to
// ids past them and go again: nothing answered OK is lost.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/backoff.hpp"
#include "core/entry_id.hpp"
#include "core/outbox.hpp"
#include "redis/history_script.hpp"
#include "redis/publishing_mode.hpp"
#include "redis/redis_link.hpp"

namespace bscd {

struct PublisherOptions {
    HistorySettings history;
    // With the history, or plain_publishing (--no-history) as Pieman's bscd.py.
    const PublishingMode* publishing = &history_publishing;
    std::size_t outbox_capacity = 100'000;  // accepted, unconfirmed codes held at most
    std::size_t batch_size = 256;           // codes per script call
    std::size_t batches_in_flight = 8;      // script calls awaiting replies at most
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds reply_timeout{10'000};  // silence that counts as a dead link
    std::chrono::milliseconds backoff_initial = Backoff::reconnect_initial;
    std::chrono::milliseconds backoff_cap = Backoff::reconnect_cap;
    // The cap in Sentinel and Cluster mode: a lost link there is most often a
    // failover, over in a second or two, and asking the sentinels or a seed
    // again is cheap; at 5 s the new master was reached 3.1 s after a kill
    // that Sentinel had resolved in 1.4 s (docs/performance.md, (k)).
    std::chrono::milliseconds failover_backoff_cap{500};
    // --redis-replicas: a batch counts as confirmed only once WAIT says this
    // many replicas have it, so that a replica promoted at a failover holds
    // every code answered OK. 0: confirmed when the master answered. Only
    // with the history (the options refuse it with --no-history).
    std::size_t replicas = 0;
    std::chrono::milliseconds replica_wait{1000};  // WAIT's timeout; fewer replicas: resend
    // After a reconnection in Sentinel or Cluster mode, the codes confirmed
    // within this long (at most `tail_limit`) are sent again first: a
    // promoted replica may not have had them (asynchronous replication),
    // and the script writes only what the new master lacks.
    std::chrono::milliseconds tail_age{10'000};
    std::size_t tail_limit = 10'000;
};

class Publisher {
public:
    // Entry ids continue after `history_last` (the stream's last id, if any).
    Publisher(boost::asio::io_context& io, const RedisOptions& redis, PublisherOptions options,
              EntryId history_last);

    void start();

    // An accepted code's history entry: the next id, and the time now.
    Delivery stamp(const StatusCode& code);

    // Takes a stamped code, to be sent in stamp order; false when the outbox
    // is full (nothing taken).
    bool send(const Delivery& delivery);

    // Takes codes accepted before a restart (the spool's), oldest first,
    // ahead of anything new; ids handed out from now on are above theirs.
    // Any that Redis already has are skipped by the history script.
    void replay(const std::vector<Delivery>& held);

    // Runs `confirmed` with the newest confirmed id each time Redis has
    // confirmed codes (the spool then forgets them).
    void on_confirmed(std::function<void(EntryId newest)> confirmed) {
        on_confirmed_ = std::move(confirmed);
    }

    // Runs `moved` with the codes that got new ids (oldest first; they are
    // every code held then) after a conflict in the history, before they
    // are sent again (a spool records them under their new ids).
    void on_restamped(std::function<void(const std::vector<Delivery>& moved)> moved) {
        on_restamped_ = std::move(moved);
    }

    // Runs `ended` each time Redis has confirmed codes among which is a
    // final one: the build's history is complete then.
    void on_final_confirmed(std::function<void()> ended) { on_final_confirmed_ = std::move(ended); }

    // Runs `done` once every accepted code is confirmed (at once if so now).
    void when_drained(std::function<void()> done);

    // Drops the link; what is unconfirmed stays in the outbox.
    void stop();

    [[nodiscard]] const Outbox& outbox() const { return outbox_; }
    [[nodiscard]] bool connected() const { return link_ready_; }
    // Codes confirmed earlier that a new master lacked and that were written
    // again from the tail (a failover lost them).
    [[nodiscard]] std::uint64_t rewritten_from_tail() const { return rewritten_from_tail_; }
    [[nodiscard]] std::uint64_t confirmed() const { return confirmed_; }

private:
    void on_ready();
    void on_link_ready();
    void on_lost(const std::string& reason);
    void forget_link();
    void schedule_pump();
    void pump();
    void on_batch_reply(std::uint64_t link, std::size_t count, const redisReply* reply);
    void on_wait_reply(std::uint64_t link, const redisReply* reply);
    // The link cannot be used as it is: `error` (Redis' words, if any) may
    // point elsewhere (MOVED, READONLY...); either way it is re-established.
    void fail_link(std::string_view error, const std::string& reason);
    void send_tail();
    void remember_confirmed(std::size_t count);
    // Confirms the oldest `count` codes sent.
    void confirm(std::size_t count);
    // The batch just answered met another writer's entries after `processed`
    // codes; `last` is the stream's last id.
    void move_past_conflict(EntryId last, std::size_t processed);
    void watch_replies();

    boost::asio::io_context& io_;
    PublisherOptions options_;
    const PublishingMode& mode_;
    RedisLink link_;
    bool replay_tail_;  // Sentinel, Cluster: a reconnection may land on a promoted replica
    Outbox outbox_;
    EntryIdSequence ids_;
    boost::asio::steady_timer watchdog_;
    std::string script_sha_;
    bool link_ready_ = false;        // handshake done, script loaded if needed
    std::uint64_t link_number_ = 0;  // numbers links, so replies from an old one are ignored
    std::size_t batches_in_flight_ = 0;
    // With replicas: per batch whose script answered, the codes its WAIT confirms.
    std::deque<std::size_t> awaiting_replicas_;
    // Codes confirmed lately and when, oldest first: the tail a reconnection sends again.
    std::deque<std::pair<Delivery, std::chrono::steady_clock::time_point>> recent_;
    std::uint64_t rewritten_from_tail_ = 0;
    std::chrono::steady_clock::time_point last_reply_;
    bool pump_scheduled_ = false;
    bool stopped_ = false;
    bool link_was_lost_ = false;
    std::uint64_t failed_attempts_ = 0;
    std::uint64_t confirmed_ = 0;
    std::vector<std::function<void()>> drained_waiters_;
    std::function<void(EntryId)> on_confirmed_;
    std::function<void(const std::vector<Delivery>&)> on_restamped_;
    std::function<void()> on_final_confirmed_;
};

}  // namespace bscd
