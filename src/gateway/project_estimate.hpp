#pragma once
// One project's estimate in the gateway (core/estimate.hpp does the
// arithmetic): learns from Redis the build's start and its profile's recent
// builds, once each (asked again while bscd has kept no start yet), and
// formats the estimate message its viewers get when it changes: at each
// code, when something was learnt, and when the current stage crosses its
// median, its 90th percentile or the stall threshold. Not once a second:
// viewers count the time down themselves (TimeLeft::counting_ms).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/build_event.hpp"
#include "core/build_start.hpp"
#include "core/catalog.hpp"
#include "core/estimate.hpp"
#include "redis/history_reader.hpp"

namespace bscd {

struct FeedEvent;

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
        return next_change_ms_ && now_ms >= *next_change_ms_;
    }

    // The latest message (null before the first update), and a number that
    // grows with each new one. A message over a second old is made anew for
    // `now_ms`, under the same version: a viewer joining mid-stage is told
    // how long the stage has run now, while the viewers that had it get
    // nothing more (they count down themselves), and a crowd joining at
    // once shares one message a second.
    const std::shared_ptr<const FeedEvent>& message(const BuildTimeline& timeline,
                                                    std::int64_t now_ms);
    [[nodiscard]] std::uint64_t version() const { return version_; }
    [[nodiscard]] const std::optional<BuildStart>& start() const { return start_; }

private:
    Estimate make_message(const BuildTimeline& timeline, std::int64_t now_ms);

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
    ProfileStats learnt_;
    std::shared_ptr<const FeedEvent> message_;
    std::int64_t message_made_ms_ = 0;
    std::uint64_t version_ = 0;
    std::optional<std::int64_t> next_change_ms_;
};

}  // namespace bscd
