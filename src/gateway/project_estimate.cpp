#include "gateway/project_estimate.hpp"

#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include "core/build_keys.hpp"
#include "core/project.hpp"
#include "redis/build_registry.hpp"

namespace bscd {

ProjectEstimate::ProjectEstimate(std::string project, const Catalog& catalog, HistoryReader& reader,
                                 EstimateRules rules)
    : project_(std::move(project)),
      channel_(channel_for_project(project_)),
      catalog_(catalog),
      reader_(reader),
      rules_(rules),
      learnt_(std::make_shared<const ProfileStats>(bscd::learn(catalog, {}))) {}

void ProjectEstimate::learn(const std::function<void()>& changed) {
    if (knowledge_ != Knowledge::unread) {
        return;
    }
    knowledge_ = Knowledge::reading_start;
    const bool sent =
        reader_.read(build_key(channel_), {"HMGET", build_key(channel_), "started", "profile"},
                     [weak = weak_from_this(), changed](const redisReply* reply) {
                         if (auto self = weak.lock()) {
                             self->on_start(reply, changed);
                         }
                     });
    if (!sent) {
        knowledge_ = Knowledge::unread;  // no link now: the next read asks again
        changed();
    }
}

void ProjectEstimate::on_start(const redisReply* reply, const std::function<void()>& changed) {
    if (reply == nullptr) {
        // Redis did not answer, or refused (a gateway user without the
        // build keys: its log says so once, not at every code): this feed
        // goes on without what it could not learn; the next one asks again.
        knowledge_ = Knowledge::known;
        changed();
        return;
    }
    knowledge_ = Knowledge::unread;
    start_ = parse_build_start(*reply);
    if (!start_) {
        changed();  // not kept yet (bscd has not started, or keeps none): asked again
        return;
    }
    if (start_->profile.empty()) {
        knowledge_ = Knowledge::known;
        changed();
        return;
    }
    knowledge_ = Knowledge::reading_profile;
    const std::string key = profile_key(start_->profile);
    const bool sent = reader_.read(key, {"LRANGE", key, "0", "-1"},
                                   [weak = weak_from_this(), changed](const redisReply* r) {
                                       if (auto self = weak.lock()) {
                                           self->on_profile(r, changed);
                                       }
                                   });
    if (!sent) {
        knowledge_ = Knowledge::unread;
        changed();
    }
}

void ProjectEstimate::on_profile(const redisReply* reply, const std::function<void()>& changed) {
    knowledge_ = Knowledge::known;
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
        changed();  // as for the start: this feed goes on without it
        return;
    }
    learnt_ = std::make_shared<const ProfileStats>(
        bscd::learn(catalog_, parse_profile(*reply), build_identity(project_, start_->started_ms)));
    changed();
}

Estimate EstimateInputs::at(std::int64_t now_ms) const {
    return estimate_build(*catalog, *learnt, started_ms(start), times, now_ms, rules);
}

EstimateMessage::EstimateMessage(std::shared_ptr<const EstimateInputs> inputs, std::int64_t now_ms)
    : inputs_(std::move(inputs)) {
    make(now_ms);
}

const std::shared_ptr<const FeedEvent>& EstimateMessage::at(std::int64_t now_ms) {
    constexpr std::int64_t freshness_ms = 1'000;
    // A finished build's message (final) no longer changes with time.
    if (message_ && !message_->final && now_ms - made_ms_ >= freshness_ms) {
        const auto thresholds = next_change_ms_;  // the update's, not this remake's
        make(now_ms);
        next_change_ms_ = thresholds;
    }
    return message_;
}

void EstimateMessage::make(std::int64_t now_ms) {
    const Estimate estimate = inputs_->at(now_ms);
    message_ = make_feed_event(EntryId{}, "estimate",
                               estimate_message(inputs_->project, inputs_->start, estimate),
                               estimate.basis == EstimateBasis::finished);
    made_ms_ = now_ms;
    next_change_ms_ = estimate.next_change_ms;
}

std::shared_ptr<const EstimateInputs> ProjectEstimate::inputs(const BuildTimeline& timeline) const {
    return std::make_shared<const EstimateInputs>(
        EstimateInputs{project_, &catalog_, learnt_, start_, timeline.stage_times(), rules_});
}

Estimate ProjectEstimate::at(const BuildTimeline& timeline, std::int64_t now_ms) const {
    return inputs(timeline)->at(now_ms);
}

void ProjectEstimate::update(const BuildTimeline& timeline, std::int64_t now_ms) {
    message_ = EstimateMessage(inputs(timeline), now_ms);
    ++version_;
}

}  // namespace bscd
