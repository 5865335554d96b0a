#pragma once
// One project's estimate in the gateway (core/estimate.hpp does the
// arithmetic): learns from Redis the build's start and its profile's recent
// builds, once each (asked again while bscd has kept no start yet), and
// formats the estimate message its viewers get when it changes: at each
// code, when something was learnt, and when the current stage crosses its
// median, its 90th percentile or the stall threshold. Not once a second:
// viewers count the time down themselves (TimeLeft::counting_ms).
//
// It lives on the gateway's Redis loop; what the viewers' loops get of it
// is an EstimateMessage, which they can make anew without asking it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/build_event.hpp"
#include "core/build_start.hpp"
#include "core/catalog.hpp"
#include "core/estimate.hpp"
#include "gateway/feed_event.hpp"
#include "redis/history_reader.hpp"

namespace bscd {

// What an estimate is worked out from, frozen at one update: the build's
// codes so far and what was learnt. Immutable, so every loop can share it.
struct EstimateInputs {
    std::string project;
    const Catalog* catalog = nullptr;
    std::shared_ptr<const ProfileStats> learnt;
    std::optional<BuildStart> start;
    StageTimes times;
    EstimateRules rules;

    [[nodiscard]] Estimate at(std::int64_t now_ms) const;
};

// The estimate message viewers get, with what it was made from. Taken over
// a second after it was made, it is made anew for the time it is taken
// (same version): a viewer joining mid-stage is told how long the stage
// has run now, while the viewers that had it get nothing more (they count
// down themselves), and a crowd joining at once shares one message a second.
class EstimateMessage {
public:
    EstimateMessage() = default;
    EstimateMessage(std::shared_ptr<const EstimateInputs> inputs, std::int64_t now_ms);

    // Null before the first update.
    const std::shared_ptr<const FeedEvent>& at(std::int64_t now_ms);
    [[nodiscard]] const std::shared_ptr<const FeedEvent>& latest() const { return message_; }
    [[nodiscard]] std::optional<std::int64_t> next_change_ms() const { return next_change_ms_; }

private:
    void make(std::int64_t now_ms);

    std::shared_ptr<const EstimateInputs> inputs_;
    std::shared_ptr<const FeedEvent> message_;
    std::int64_t made_ms_ = 0;
    std::optional<std::int64_t> next_change_ms_;
};

class ProjectEstimate : public std::enable_shared_from_this<ProjectEstimate> {
public:
    ProjectEstimate(std::string project, const Catalog& catalog, HistoryReader& reader,
                    EstimateRules rules);

    // Reads what is not known yet: the build's start, then its profile's
    // record. `changed` runs once that is over for now: all known; no start
    // kept yet (bscd has not started), which a later learn() asks again; or
    // Redis did not answer or refused, which this estimate does without. A
    // no-op while reading or once settled.
    void learn(const std::function<void()>& changed);
    [[nodiscard]] bool reading() const {
        return knowledge_ == Knowledge::reading_start || knowledge_ == Knowledge::reading_profile;
    }

    // The estimate of `timeline` at `now_ms` (Unix ms, the gateway's clock).
    [[nodiscard]] Estimate at(const BuildTimeline& timeline, std::int64_t now_ms) const;
    // Makes the message for `timeline` at `now_ms` anew (message()).
    void update(const BuildTimeline& timeline, std::int64_t now_ms);
    // The current stage crossed a threshold since the last update().
    [[nodiscard]] bool due(std::int64_t now_ms) const {
        const auto next = message_.next_change_ms();
        return next && now_ms >= *next;
    }

    // The latest message (none before the first update), and a number that
    // grows with each new one.
    [[nodiscard]] const EstimateMessage& message() const { return message_; }
    [[nodiscard]] std::uint64_t version() const { return version_; }
    [[nodiscard]] const std::optional<BuildStart>& start() const { return start_; }

private:
    [[nodiscard]] std::shared_ptr<const EstimateInputs> inputs(const BuildTimeline& timeline) const;

    enum class Knowledge { unread, reading_start, reading_profile, known };
    void on_start(const redisReply* reply, const std::function<void()>& changed);
    void on_profile(const redisReply* reply, const std::function<void()>& changed);

    std::string project_;
    std::string channel_;
    const Catalog& catalog_;
    HistoryReader& reader_;
    EstimateRules rules_;
    Knowledge knowledge_ = Knowledge::unread;
    std::optional<BuildStart> start_;
    std::shared_ptr<const ProfileStats> learnt_;
    EstimateMessage message_;
    std::uint64_t version_ = 0;
};

}  // namespace bscd
