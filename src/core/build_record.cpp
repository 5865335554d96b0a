#include "core/build_record.hpp"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/unix_ms.hpp"

namespace bscd {
namespace {

// A JSON integer that fits in int64 (nlohmann's get<> would wrap one that
// does not), or nullopt.
std::optional<std::int64_t> integer(const nlohmann::json& value) {
    if (value.is_number_unsigned()) {
        const auto u = value.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(u);
    }
    if (value.is_number_integer()) {
        return value.get<std::int64_t>();
    }
    return std::nullopt;
}

}  // namespace

std::string BuildRecord::to_json() const {
    nlohmann::ordered_json j;
    j["build"] = build;
    j["started"] = started_ms;
    j["ended"] = ended_ms;
    j["outcome"] = outcome;
    j["stages"] = nlohmann::ordered_json::array();
    for (const StageTime& stage : stages) {
        j["stages"].push_back({stage.code, stage.duration_ms});
    }
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<BuildRecord> BuildRecord::from_json(std::string_view text) {
    const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
        return std::nullopt;
    }
    const auto build = j.find("build");
    const auto started = j.find("started");
    const auto ended = j.find("ended");
    const auto outcome = j.find("outcome");
    const auto stages = j.find("stages");
    if (build == j.end() || !build->is_string() || started == j.end() || ended == j.end() ||
        outcome == j.end() || stages == j.end() || !stages->is_array()) {
        return std::nullopt;
    }
    BuildRecord record;
    record.build = build->get<std::string>();
    const auto started_ms = integer(*started);
    const auto ended_ms = integer(*ended);
    const auto outcome_code = integer(*outcome);
    if (!started_ms || !ended_ms || !outcome_code || *outcome_code < 0 ||
        *outcome_code > std::numeric_limits<int>::max()) {
        return std::nullopt;
    }
    record.started_ms = *started_ms;
    record.ended_ms = *ended_ms;
    record.outcome = static_cast<int>(*outcome_code);
    for (const auto& stage : *stages) {
        if (!stage.is_array() || stage.size() != 2) {
            return std::nullopt;
        }
        const auto code = integer(stage[0]);
        const auto duration = integer(stage[1]);
        if (!code || *code < 0 || *code > std::numeric_limits<int>::max() || !duration ||
            *duration < 0) {
            return std::nullopt;
        }
        record.stages.push_back({static_cast<int>(*code), *duration});
    }
    return record;
}

std::string build_identity(std::string_view project, std::int64_t started_ms) {
    return std::string(project) + "@" + std::to_string(started_ms);
}

std::optional<BuildRecord> record_build(std::string_view project, const BuildStart& start,
                                        std::span<const HistoryEntry> entries) {
    BuildRecord record;
    record.build = build_identity(project, start.started_ms);
    record.started_ms = start.started_ms;
    std::int64_t previous = start.started_ms;
    for (const HistoryEntry& entry : entries) {
        record.stages.push_back({entry.code, elapsed_ms(previous, entry.ts_ms)});
        previous = std::max(previous, entry.ts_ms);
        if (entry.code >= 1000) {
            record.ended_ms = entry.ts_ms;
            record.outcome = entry.code;
            return record;
        }
    }
    return std::nullopt;
}

}  // namespace bscd
