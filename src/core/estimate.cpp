#include "core/estimate.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/build_event.hpp"
#include "core/unix_ms.hpp"

namespace bscd {
namespace {

// The q-quantile of sorted samples, interpolated between the two nearest
// (so the median of two builds is their mean).
std::int64_t quantile(const std::vector<std::int64_t>& sorted, double q) {
    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, sorted.size() - 1);
    const double fraction = position - static_cast<double>(below);
    return std::llround(static_cast<double>(sorted[below]) +
                        fraction * static_cast<double>(sorted[above] - sorted[below]));
}

StageStats stats_of(std::vector<std::int64_t> samples) {
    std::sort(samples.begin(), samples.end());
    return {samples.size(), quantile(samples, 0.25), quantile(samples, 0.5),
            quantile(samples, 0.75), quantile(samples, 0.9)};
}

// Per catalog position, the time `record` spent in each code (summed over
// repeats); codes the catalog lacks are left out.
std::vector<std::optional<std::int64_t>> time_per_code(const Catalog& catalog,
                                                       const BuildRecord& record) {
    std::vector<std::optional<std::int64_t>> times(catalog.codes().size());
    for (const StageTime& stage : record.stages) {
        if (const auto position = catalog.position(stage.code)) {
            times[*position] = times[*position].value_or(0) + stage.duration_ms;
        }
    }
    return times;
}

const char* state_name(StageState state) {
    switch (state) {
        case StageState::done:
            return "done";
        case StageState::current:
            return "current";
        case StageState::upcoming:
            return "upcoming";
    }
    return "upcoming";
}

const char* pace_name(Pace pace) {
    switch (pace) {
        case Pace::unknown:
            return "unknown";
        case Pace::usual:
            return "usual";
        case Pace::slower:
            return "slower";
        case Pace::stalled:
            return "stalled";
    }
    return "unknown";
}

const char* basis_name(EstimateBasis basis) {
    switch (basis) {
        case EstimateBasis::learning:
            return "learning";
        case EstimateBasis::learnt:
            return "learnt";
        case EstimateBasis::finished:
            return "finished";
    }
    return "learning";
}

}  // namespace

ProfileStats learn(const Catalog& catalog, std::span<const BuildRecord> history,
                   std::string_view except_build) {
    const std::size_t codes = catalog.codes().size();
    std::vector<std::vector<std::int64_t>> samples(codes);
    ProfileStats learnt;
    learnt.longest.resize(codes);
    for (const BuildRecord& record : history) {
        if (!except_build.empty() && record.build == except_build) {
            continue;
        }
        const auto times = time_per_code(catalog, record);
        for (std::size_t i = 0; i < codes; ++i) {
            if (!times[i]) {
                continue;
            }
            learnt.longest[i] = std::max(learnt.longest[i].value_or(0), *times[i]);
            if (record.succeeded()) {
                samples[i].push_back(*times[i]);
            }
        }
        if (record.succeeded()) {
            ++learnt.builds;
        }
    }
    learnt.stages.resize(codes);
    for (std::size_t i = 0; i < codes; ++i) {
        if (!samples[i].empty()) {
            learnt.stages[i] = stats_of(std::move(samples[i]));
        }
    }
    return learnt;
}

Estimate estimate_build(const Catalog& catalog, const ProfileStats& learnt,
                        std::optional<std::int64_t> started_ms, std::span<const Arrival> arrivals,
                        std::int64_t now_ms, const EstimateRules& rules) {
    StageTimes times;
    for (const Arrival& arrival : arrivals) {
        if (const StatusCode* code = catalog.find(arrival.code)) {
            times.add(code->value, code->is_final(), arrival.ts_ms);
        }
    }
    return estimate_build(catalog, learnt, started_ms, times, now_ms, rules);
}

Estimate estimate_build(const Catalog& catalog, const ProfileStats& learnt,
                        std::optional<std::int64_t> started_ms, const StageTimes& times,
                        std::int64_t now_ms, const EstimateRules& rules) {
    const auto codes = catalog.codes();
    const auto usual_of = [&](std::size_t position) -> std::optional<StageStats> {
        return position < learnt.stages.size() ? learnt.stages[position] : std::nullopt;
    };
    Estimate estimate;
    estimate.builds = learnt.builds;

    // What this build has done, in order of arrival, repeats summed; the
    // first code's time is the time since the build's start, when known.
    std::optional<std::size_t> furthest;  // catalog position of the furthest stage passed
    bool finished = false;
    const auto passed_codes = times.passed();
    for (std::size_t i = 0; i < passed_codes.size(); ++i) {
        const StageTimes::Passed& passed = passed_codes[i];
        const auto position = catalog.position(passed.code);
        if (!position) {
            continue;  // a code this catalog lacks: viewers skip it as well
        }
        std::optional<std::int64_t> took = passed.took_ms;
        if (i == 0 && started_ms && times.first_ts()) {
            took = took.value_or(0) + elapsed_ms(*started_ms, *times.first_ts());
        }
        estimate.plan.push_back({&codes[*position], StageState::done, took, usual_of(*position)});
        if (passed.final) {
            finished = true;
            break;
        }
        if (!furthest || *position > *furthest) {
            furthest = *position;
        }
    }
    std::optional<std::int64_t> last_ts = times.last_ts();
    if (started_ms) {
        last_ts = std::max(last_ts.value_or(*started_ms), *started_ms);
    }
    if (finished) {
        estimate.basis = EstimateBasis::finished;
        return estimate;
    }

    // What is still to come: the planned stages past the furthest one, then
    // the success code.
    const bool from_history = learnt.builds > 0;
    const StatusCode* success = nullptr;
    for (std::size_t i = 0; i < codes.size(); ++i) {
        if (codes[i].is_success()) {
            success = &codes[i];
            continue;
        }
        if (codes[i].is_final() || (furthest && i <= *furthest)) {
            continue;
        }
        const auto usual = usual_of(i);
        if (from_history && (!usual || usual->builds * 2 < learnt.builds)) {
            continue;  // most builds of this kind skip it
        }
        estimate.plan.push_back({&codes[i], StageState::upcoming, std::nullopt, usual});
    }
    if (success != nullptr) {
        estimate.plan.push_back({success, StageState::upcoming, std::nullopt,
                                 usual_of(*catalog.position(success->value))});
    }
    const auto current =
        std::find_if(estimate.plan.begin(), estimate.plan.end(),
                     [](const PlannedStage& s) { return s.state == StageState::upcoming; });
    if (current == estimate.plan.end()) {
        return estimate;  // a catalog without stages to come or a success code
    }
    current->state = StageState::current;
    estimate.stage_elapsed_ms = last_ts ? elapsed_ms(*last_ts, now_ms) : 0;

    if (learnt.builds < rules.min_builds) {
        estimate.basis = EstimateBasis::learning;
        return estimate;
    }
    estimate.basis = EstimateBasis::learnt;
    const std::int64_t elapsed = estimate.stage_elapsed_ms;
    TimeLeft left, low, high;
    if (current->usual) {
        left.counting_ms = std::max<std::int64_t>(0, current->usual->median - elapsed);
        low.counting_ms = std::max<std::int64_t>(0, current->usual->p25 - elapsed);
        high.counting_ms = std::max<std::int64_t>(0, current->usual->p75 - elapsed);
    }
    left.ms = left.counting_ms;
    low.ms = low.counting_ms;
    high.ms = high.counting_ms;
    for (auto stage = current + 1; stage != estimate.plan.end(); ++stage) {
        if (stage->usual) {
            left.ms += stage->usual->median;
            low.ms += stage->usual->p25;
            high.ms += stage->usual->p75;
        }
    }
    estimate.left = left;
    estimate.left_low = low;
    estimate.left_high = high;

    if (current->usual) {
        if (current->usual->builds >= rules.min_builds_slower) {
            estimate.slow_after_ms = current->usual->p90;
        }
        estimate.pace = Pace::usual;
        const auto longest = learnt.longest[*catalog.position(current->code->value)];
        if (longest) {
            estimate.stalled_after_ms =
                std::max(*longest * rules.stall_factor, *longest + rules.stall_margin_ms);
        }
        if (estimate.stalled_after_ms && elapsed > *estimate.stalled_after_ms) {
            estimate.pace = Pace::stalled;
        } else if (estimate.slow_after_ms && elapsed > *estimate.slow_after_ms) {
            estimate.pace = Pace::slower;
        }
        std::optional<std::int64_t> next;
        for (const auto threshold : {std::optional(current->usual->median), estimate.slow_after_ms,
                                     estimate.stalled_after_ms}) {
            if (threshold && *threshold >= elapsed && (!next || *threshold < *next)) {
                next = threshold;
            }
        }
        if (next) {
            // Just past it: at the threshold itself nothing has changed yet.
            estimate.next_change_ms = now_ms + (*next - elapsed) + 1;
        }
    }
    return estimate;
}

namespace {

nlohmann::ordered_json time_left(const TimeLeft& t) {
    return nlohmann::ordered_json{{"ms", t.ms}, {"counting_ms", t.counting_ms}};
}

void add_start(nlohmann::ordered_json& object, const std::optional<BuildStart>& start) {
    if (start) {
        if (!start->profile.empty()) {
            object["profile"] = start->profile;
        }
        object["build_started"] = iso8601_utc(start->started_ms);
    }
}

}  // namespace

void add_estimate(nlohmann::ordered_json& object, const std::optional<BuildStart>& start,
                  const Estimate& estimate) {
    add_start(object, start);
    auto& plan = object["plan"] = nlohmann::ordered_json::array();
    for (const PlannedStage& stage : estimate.plan) {
        nlohmann::ordered_json s;
        s["code"] = stage.code->value;
        s["name"] = stage.code->name;
        s["description"] = stage.code->description;
        s["state"] = state_name(stage.state);
        if (stage.took_ms) {
            s["took_ms"] = *stage.took_ms;
        }
        if (stage.usual) {
            s["usual_ms"] = stage.usual->median;
        }
        plan.push_back(std::move(s));
    }
    nlohmann::ordered_json e;
    e["basis"] = basis_name(estimate.basis);
    e["builds"] = estimate.builds;
    e["pace"] = pace_name(estimate.pace);
    e["stage_elapsed_ms"] = estimate.stage_elapsed_ms;
    if (estimate.slow_after_ms) {
        e["slow_after_ms"] = *estimate.slow_after_ms;
    }
    if (estimate.stalled_after_ms) {
        e["stalled_after_ms"] = *estimate.stalled_after_ms;
    }
    if (estimate.left) {
        e["left"] = time_left(*estimate.left);
        e["left_low"] = time_left(*estimate.left_low);
        e["left_high"] = time_left(*estimate.left_high);
    }
    object["estimate"] = std::move(e);
}

nlohmann::ordered_json build_summary(const BuildTimeline& timeline,
                                     const std::optional<BuildStart>& start,
                                     const Estimate& estimate) {
    nlohmann::ordered_json j;
    j["project"] = timeline.project();
    add_start(j, start);
    const BuildProgress& progress = timeline.progress();
    const StatusCode* code = progress.last_code();
    if (code == nullptr) {
        j["state"] = "waiting";
        return j;
    }
    j["state"] = progress.succeeded() ? "succeeded" : progress.failed() ? "failed" : "running";
    j["progress"] = progress.percent();
    j["code"] = code->value;
    j["name"] = code->name;
    j["description"] = code->description;
    j["updated"] = iso8601_utc(progress.updated_ms().value_or(0));
    if (progress.finished() && start && progress.updated_ms()) {
        j["took_ms"] = *progress.updated_ms() - start->started_ms;
    }
    nlohmann::ordered_json e;
    e["basis"] = basis_name(estimate.basis);
    e["pace"] = pace_name(estimate.pace);
    if (estimate.left) {
        e["left"] = time_left(*estimate.left);
    }
    j["estimate"] = std::move(e);
    return j;
}

std::string estimate_message(std::string_view project, const std::optional<BuildStart>& start,
                             const Estimate& estimate) {
    nlohmann::ordered_json j;
    j["type"] = "estimate";
    j["project"] = project;
    add_estimate(j, start, estimate);
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace bscd
