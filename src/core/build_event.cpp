#include "core/build_event.hpp"

#include <charconv>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/estimate.hpp"
#include "core/unix_ms.hpp"

namespace bscd {

namespace {

// A whole field value as a decimal number of type T (an optional leading '-',
// no '+', no blanks, in range); nullopt otherwise.
template <typename T>
std::optional<T> parse_number(const std::string& text) {
    T value{};
    const char* const end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || text.empty()) {
        return std::nullopt;
    }
    return value;
}

// The first value of field `name`, or nullptr. A stream entry may repeat a
// field name; bscd never does, and the first one wins.
const std::string* field(const std::vector<std::pair<std::string, std::string>>& fields,
                         std::string_view name) {
    for (const auto& [key, value] : fields) {
        if (key == name) {
            return &value;
        }
    }
    return nullptr;
}

// Writes `value` as decimal digits, at least `width` of them.
void append_padded(std::string& out, std::int64_t value, int width) {
    char digits[20];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value > 0);
    for (int i = n; i < width; ++i) {
        out.push_back('0');
    }
    while (n > 0) {
        out.push_back(digits[--n]);
    }
}

}  // namespace

std::optional<HistoryEntry> parse_history_entry(
    const EntryId& id, const std::vector<std::pair<std::string, std::string>>& fields) {
    const std::string* code_text = field(fields, "code");
    const std::string* ts_text = field(fields, "ts");
    if (code_text == nullptr || ts_text == nullptr) {
        return std::nullopt;
    }
    const auto code = parse_number<int>(*code_text);
    const auto ts = parse_number<std::int64_t>(*ts_text);
    if (!code || !ts) {
        return std::nullopt;
    }
    HistoryEntry entry;
    entry.id = id;
    entry.code = *code;
    if (const std::string* name = field(fields, "name")) {
        entry.name = *name;  // optional: the catalog names the code anyway
    }
    entry.ts_ms = *ts;
    return entry;
}

std::string BuildEvent::to_json() const {
    nlohmann::ordered_json j;
    j["project"] = project;
    j["id"] = id.str();
    // `code` is never null by contract; should it be, the event still is
    // valid JSON, with nulls where the code's fields would be.
    if (code != nullptr) {
        j["code"] = code->value;
        j["name"] = code->name;
        j["description"] = code->description;
    } else {
        j["code"] = nullptr;
        j["name"] = nullptr;
        j["description"] = nullptr;
    }
    j["ts"] = iso8601_utc(ts_ms);
    j["progress"] = progress;
    j["final"] = final;
    // Compact (one line: control characters, newlines included, become
    // \uXXXX escapes), UTF-8 kept as is, invalid UTF-8 replaced by U+FFFD so
    // that a hostile project name or description still gives valid JSON.
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Times before the epoch are shown as the epoch and times after the year 9999
// as its last millisecond: the result is always a four-digit-year RFC 3339
// timestamp. Civil date from days since the epoch: H. Hinnant's
// civil_from_days (proleptic Gregorian calendar, no time zone database).
std::string iso8601_utc(std::int64_t unix_ms) {
    constexpr std::int64_t max_ms = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
    if (unix_ms < 0) {
        unix_ms = 0;
    } else if (unix_ms > max_ms) {
        unix_ms = max_ms;
    }
    constexpr std::int64_t ms_per_day = 86'400'000;
    const std::int64_t days = unix_ms / ms_per_day;
    const std::int64_t ms_of_day = unix_ms % ms_per_day;

    const std::int64_t z = days + 719'468;  // days since 0000-03-01; never negative here
    const std::int64_t era = z / 146'097;
    const std::int64_t doe = z - era * 146'097;  // [0, 146096]
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;  // [0, 399]
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  // [0, 365]
    const std::int64_t mp = (5 * doy + 2) / 153;                                       // [0, 11]
    const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;                             // [1, 31]
    const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;                              // [1, 12]
    const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);

    std::string out;
    out.reserve(24);
    append_padded(out, year, 4);
    out.push_back('-');
    append_padded(out, month, 2);
    out.push_back('-');
    append_padded(out, day, 2);
    out.push_back('T');
    append_padded(out, ms_of_day / 3'600'000, 2);
    out.push_back(':');
    append_padded(out, ms_of_day / 60'000 % 60, 2);
    out.push_back(':');
    append_padded(out, ms_of_day / 1000 % 60, 2);
    out.push_back('.');
    append_padded(out, ms_of_day % 1000, 3);
    out.push_back('Z');
    return out;
}

BuildTimeline::BuildTimeline(std::string project, const Catalog& catalog)
    : project_(std::move(project)), catalog_(catalog), progress_(catalog) {}

// Entries after the build's final code give no event (nullopt), as
// BuildProgress ignores them: the timeline shows one build as it ended. Such
// entries can only come from a new build reusing the project's name (and its
// stream) before the old history expired; following that build is a matter
// for a new timeline, started after the final code.
//
// A stage's duration is the time since the previous code the timeline took,
// and never negative: should bscd's clock step back between two codes, the
// stage took 0 ms.
std::optional<BuildEvent> BuildTimeline::add(const HistoryEntry& entry) {
    const StatusCode* code = catalog_.find(entry.code);
    if (code == nullptr || progress_.finished()) {
        return std::nullopt;
    }
    progress_.record(*code, entry.ts_ms);

    BuildEvent event;
    event.project = project_;
    event.id = entry.id;
    event.code = code;
    event.ts_ms = entry.ts_ms;
    event.progress = progress_.percent();
    event.final = code->is_final();

    std::optional<std::int64_t> duration;
    if (last_) {
        duration = elapsed_ms(last_->event.ts_ms, entry.ts_ms);
    }
    last_ = Stage{event, duration};
    ++events_;
    times_.add(code->value, code->is_final(), entry.ts_ms);
    return event;
}

std::string BuildTimeline::state_json(const std::optional<BuildStart>& start,
                                      const Estimate* estimate) const {
    const BuildEvent& last = last_.value().event;
    const StatusCode* code = progress_.last_code();
    nlohmann::ordered_json j;
    j["project"] = project_;
    j["state"] = progress_.succeeded() ? "succeeded" : progress_.failed() ? "failed" : "running";
    j["progress"] = progress_.percent();
    j["stage"] = progress_.stages_done();
    j["stages"] = progress_.total_stages();
    j["code"] = code->value;
    j["name"] = code->name;
    j["description"] = code->description;
    j["started"] = iso8601_utc(progress_.started_ms().value_or(0));
    j["updated"] = iso8601_utc(progress_.updated_ms().value_or(0));
    j["last_id"] = last.id.str();
    j["events"] = events_;
    if (estimate != nullptr) {
        add_estimate(j, start, *estimate);
    }
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace bscd
