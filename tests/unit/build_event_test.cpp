#include "core/build_event.hpp"

#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/catalog.hpp"

namespace bscd {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t i64_min = std::numeric_limits<std::int64_t>::min();

HistoryEntry entry(std::uint64_t ms, std::uint64_t seq, int code, std::int64_t ts_ms) {
    return HistoryEntry{EntryId{ms, seq}, code, "", ts_ms};
}

// --- iso8601_utc ---

TEST(Iso8601Utc, KnownTimes) {
    struct Case {
        std::int64_t ms;
        const char* text;
    };
    const Case cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1, "1970-01-01T00:00:00.001Z"},
        {999, "1970-01-01T00:00:00.999Z"},
        {1'000, "1970-01-01T00:00:01.000Z"},
        {59'999, "1970-01-01T00:00:59.999Z"},
        {3'600'000, "1970-01-01T01:00:00.000Z"},
        {86'399'999, "1970-01-01T23:59:59.999Z"},
        {86'400'000, "1970-01-02T00:00:00.000Z"},
        {31'535'999'999, "1970-12-31T23:59:59.999Z"},
        {31'536'000'000, "1971-01-01T00:00:00.000Z"},
        {1'763'938'454'570, "2025-11-23T22:54:14.570Z"},  // docs/architecture.md's example id
        // Leap years: divisible by 4, and by 400 for centuries.
        {68'169'600'000, "1972-02-29T00:00:00.000Z"},
        {946'684'799'000, "1999-12-31T23:59:59.000Z"},
        {946'684'800'000, "2000-01-01T00:00:00.000Z"},
        {951'782'399'999, "2000-02-28T23:59:59.999Z"},
        {951'782'400'000, "2000-02-29T00:00:00.000Z"},
        {951'868'800'000, "2000-03-01T00:00:00.000Z"},
        {1'677'628'799'999, "2023-02-28T23:59:59.999Z"},
        {1'677'628'800'000, "2023-03-01T00:00:00.000Z"},
        {1'709'210'096'789, "2024-02-29T12:34:56.789Z"},
        {1'735'689'599'999, "2024-12-31T23:59:59.999Z"},
        {1'735'689'600'000, "2025-01-01T00:00:00.000Z"},
        {2'147'483'648'000, "2038-01-19T03:14:08.000Z"},
        {4'107'542'399'000, "2100-02-28T23:59:59.000Z"},
        {4'107'542'400'000, "2100-03-01T00:00:00.000Z"},  // 2100 is not a leap year
        {253'402'300'799'999, "9999-12-31T23:59:59.999Z"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.ms);
        EXPECT_EQ(iso8601_utc(c.ms), c.text);
    }
}

// Before the epoch is the epoch; after year 9999 is its last millisecond.
TEST(Iso8601Utc, Clamped) {
    EXPECT_EQ(iso8601_utc(-1), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(iso8601_utc(-86'400'001), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(iso8601_utc(i64_min), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(iso8601_utc(253'402'300'800'000), "9999-12-31T23:59:59.999Z");
    EXPECT_EQ(iso8601_utc(i64_max), "9999-12-31T23:59:59.999Z");
}

// Every day from 1970 to 2500 against a naive day-by-day calendar.
TEST(Iso8601Utc, EveryDayAgainstNaiveCalendar) {
    const auto is_leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
    const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    std::int64_t day = 0;
    int mismatches = 0;
    for (int y = 1970; y <= 2500 && mismatches < 5; ++y) {
        for (int m = 1; m <= 12; ++m) {
            const int days = month_days[m - 1] + (m == 2 && is_leap(y) ? 1 : 0);
            for (int d = 1; d <= days; ++d, ++day) {
                char expected[64];
                (void)std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT13:07:05.042Z", y, m,
                                    d);
                const std::string got = iso8601_utc(day * 86'400'000 + 47'225'042);
                if (got != expected) {
                    ADD_FAILURE() << "day " << day << ": " << got << " != " << expected;
                    ++mismatches;
                }
            }
        }
    }
    EXPECT_EQ(day, 193'944);  // 1970-01-01 .. 2500-12-31
}

// --- parse_history_entry ---

TEST(ParseHistoryEntry, Valid) {
    const EntryId id{1'763'938'454'570, 3};
    const auto e = parse_history_entry(
        id, {{"code", "10"}, {"name", "PREPARED_CHROOT_ENV_CODE"}, {"ts", "1763938454570"}});
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->id, id);
    EXPECT_EQ(e->code, 10);
    EXPECT_EQ(e->name, "PREPARED_CHROOT_ENV_CODE");
    EXPECT_EQ(e->ts_ms, 1'763'938'454'570);
}

TEST(ParseHistoryEntry, AnyFieldOrderAndExtraFields) {
    const auto e = parse_history_entry(EntryId{5, 0}, {{"host", "builder-1"},
                                                       {"ts", "42"},
                                                       {"extra", ""},
                                                       {"name", "SYNCED_CODE"},
                                                       {"code", "82"},
                                                       {"duration", "not a number either"}});
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->code, 82);
    EXPECT_EQ(e->name, "SYNCED_CODE");
    EXPECT_EQ(e->ts_ms, 42);
}

TEST(ParseHistoryEntry, NameIsOptional) {
    const auto e = parse_history_entry(EntryId{1, 0}, {{"code", "1000"}, {"ts", "7"}});
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->code, 1000);
    EXPECT_EQ(e->name, "");
    EXPECT_EQ(e->ts_ms, 7);
}

TEST(ParseHistoryEntry, FirstOfRepeatedFieldWins) {
    const auto e = parse_history_entry(EntryId{1, 0},
                                       {{"code", "20"}, {"ts", "1"}, {"code", "30"}, {"ts", "2"}});
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->code, 20);
    EXPECT_EQ(e->ts_ms, 1);
}

TEST(ParseHistoryEntry, Limits) {
    const auto e =
        parse_history_entry(EntryId{1, 0}, {{"code", "2147483647"}, {"ts", "9223372036854775807"}});
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->code, 2'147'483'647);
    EXPECT_EQ(e->ts_ms, i64_max);
    const auto leading_zeros = parse_history_entry(EntryId{1, 0}, {{"code", "0010"}, {"ts", "0"}});
    ASSERT_TRUE(leading_zeros.has_value());
    EXPECT_EQ(leading_zeros->code, 10);
    EXPECT_EQ(leading_zeros->ts_ms, 0);
}

TEST(ParseHistoryEntry, Invalid) {
    struct Case {
        const char* why;
        Fields fields;
    };
    const Case cases[] = {
        {"no fields", {}},
        {"no code", {{"name", "X"}, {"ts", "1"}}},
        {"no ts", {{"code", "10"}, {"name", "X"}}},
        {"field names are case-sensitive", {{"CODE", "10"}, {"TS", "1"}}},
        {"empty code", {{"code", ""}, {"ts", "1"}}},
        {"empty ts", {{"code", "10"}, {"ts", ""}}},
        {"code a name", {{"code", "PREPARED_CHROOT_ENV_CODE"}, {"ts", "1"}}},
        {"code trailing junk", {{"code", "10a"}, {"ts", "1"}}},
        {"code leading blank", {{"code", " 10"}, {"ts", "1"}}},
        {"code trailing blank", {{"code", "10 "}, {"ts", "1"}}},
        {"code trailing newline", {{"code", "10\n"}, {"ts", "1"}}},
        {"code plus sign", {{"code", "+10"}, {"ts", "1"}}},
        {"code hex", {{"code", "0x10"}, {"ts", "1"}}},
        {"code float", {{"code", "10.0"}, {"ts", "1"}}},
        {"code exponent", {{"code", "1e3"}, {"ts", "1"}}},
        {"code overflows int", {{"code", "2147483648"}, {"ts", "1"}}},
        {"code with NUL", {{"code", std::string("10\0", 3)}, {"ts", "1"}}},
        {"ts float", {{"code", "10"}, {"ts", "1763938454.570"}}},
        {"ts junk", {{"code", "10"}, {"ts", "yesterday"}}},
        {"ts overflows", {{"code", "10"}, {"ts", "9223372036854775808"}}},
        {"ts leading blank", {{"code", "10"}, {"ts", " 1"}}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.why);
        EXPECT_FALSE(parse_history_entry(EntryId{1, 0}, c.fields).has_value());
    }
}

// --- BuildEvent::to_json ---

TEST(BuildEventJson, DesignExampleExactly) {
    BuildTimeline timeline("demo", Catalog::builtin());
    const auto event = timeline.add(entry(1'763'938'454'570, 0, 10, 1'763'938'454'570));
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->to_json(),
              R"({"project":"demo","id":"1763938454570-0","code":10,)"
              R"("name":"PREPARED_CHROOT_ENV_CODE",)"
              R"json("description":"chroot environment prepared (debootstrap or apk.static)",)json"
              R"("ts":"2025-11-23T22:54:14.570Z","progress":7,"final":false})");
}

TEST(BuildEventJson, FinalEvent) {
    const StatusCode* success = Catalog::builtin().find(1000);
    ASSERT_NE(success, nullptr);
    BuildEvent event;
    event.project = "rpi-image";
    event.id = EntryId{1'735'689'600'000, 12};
    event.code = success;
    event.ts_ms = 1'735'689'600'001;
    event.progress = 100;
    event.final = true;
    EXPECT_EQ(event.to_json(), R"({"project":"rpi-image","id":"1735689600000-12","code":1000,)"
                               R"("name":"SUCCESSFUL_CODE","description":"build succeeded",)"
                               R"("ts":"2025-01-01T00:00:00.001Z","progress":100,"final":true})");
}

TEST(BuildEventJson, KeysInOrder) {
    const StatusCode* code = Catalog::builtin().find(82);
    ASSERT_NE(code, nullptr);
    const BuildEvent event{"p", EntryId{1, 2}, code, 3, 100, false};
    const auto parsed = nlohmann::ordered_json::parse(event.to_json());
    std::vector<std::string> keys;
    for (const auto& [key, value] : parsed.items()) {
        keys.push_back(key);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"project", "id", "code", "name", "description", "ts",
                                              "progress", "final"}));
    EXPECT_TRUE(parsed["code"].is_number_integer());
    EXPECT_TRUE(parsed["progress"].is_number_integer());
    EXPECT_TRUE(parsed["final"].is_boolean());
    EXPECT_TRUE(parsed["id"].is_string());
}

// One line, valid JSON, whatever bytes the project name holds.
TEST(BuildEventJson, HostileProjectName) {
    const StatusCode* code = Catalog::builtin().find(10);
    ASSERT_NE(code, nullptr);
    const std::string hostile = std::string("q\"b\\s/n\nr\rt\tc\x01\x1f") + "del\x7f" + "nul" +
                                std::string(1, '\0') + "bad\xff" + "trunc\xc3" + "over\xc0\xaf" +
                                "ok\xc3\xa9\xe2\x82\xac" + "end";
    const BuildEvent event{hostile, EntryId{1, 0}, code, 0, 7, false};
    const std::string json = event.to_json();

    EXPECT_EQ(json.find('\n'), std::string::npos);
    EXPECT_EQ(json.find('\r'), std::string::npos);
    for (unsigned char c : json) {
        EXPECT_GE(c, 0x20U) << "raw control byte in " << json;
    }
    EXPECT_NE(json.find(R"("project":"q\"b\\s/n\nr\rt\tc\u0001\u001fdel)"), std::string::npos)
        << json;
    EXPECT_NE(json.find(R"(nul\u0000bad)"), std::string::npos) << json;

    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(json)) << json;
    // Each invalid sequence becomes U+FFFD; the valid bytes after it are kept.
    const std::string fffd = "\xef\xbf\xbd";
    const std::string expected = std::string("q\"b\\s/n\nr\rt\tc\x01\x1f") + "del\x7f" + "nul" +
                                 std::string(1, '\0') + "bad" + fffd + "trunc" + fffd + "over" +
                                 fffd + fffd + "ok\xc3\xa9\xe2\x82\xac" + "end";
    EXPECT_EQ(parsed.at("project").get<std::string>(), expected);
    EXPECT_EQ(parsed.at("code"), 10);
    EXPECT_EQ(parsed.at("final"), false);
}

// Descriptions come from a codes file: quotes, backslashes, tabs, control
// bytes and invalid UTF-8 are possible there too.
TEST(BuildEventJson, HostileDescription) {
    const Catalog catalog = Catalog::parse(
        std::string("ODD_CODE=5 # \"quoted\" C:\\path\ttab\x02 \xfe\xfe x\n"), "<test>");
    BuildTimeline timeline("p", catalog);
    const auto event = timeline.add(entry(9, 0, 5, 9));
    ASSERT_TRUE(event.has_value());
    const std::string json = event->to_json();
    EXPECT_NE(json.find(R"("description":"\"quoted\" C:\\path\ttab\u0002 )"), std::string::npos)
        << json;
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(json)) << json;
    EXPECT_EQ(parsed.at("description").get<std::string>(),
              "\"quoted\" C:\\path\ttab\x02 \xef\xbf\xbd\xef\xbf\xbd x");
    EXPECT_EQ(parsed.at("progress"), 100);
}

TEST(BuildEventJson, UnicodeKeptAsIs) {
    const StatusCode* code = Catalog::builtin().find(20);
    ASSERT_NE(code, nullptr);
    const BuildEvent event{"образ-😀", EntryId{1, 0}, code, 0, 14, false};
    EXPECT_NE(event.to_json().find(R"("project":"образ-😀")"), std::string::npos);
}

TEST(BuildEventJson, NullCodeStillValidJson) {
    const BuildEvent event{"p", EntryId{1, 0}, nullptr, 0, 0, false};
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(event.to_json()));
    EXPECT_TRUE(parsed.at("code").is_null());
    EXPECT_TRUE(parsed.at("name").is_null());
    EXPECT_EQ(parsed.at("project"), "p");
}

// --- BuildTimeline ---

TEST(BuildTimeline, EventsAndDurations) {
    BuildTimeline timeline("demo", Catalog::builtin());
    struct Step {
        int code;
        std::int64_t ts;
        int progress;
        bool final;
        std::optional<std::int64_t> duration;
    };
    const Step steps[] = {
        {10, 1'000'000, 7, false, std::nullopt},
        {20, 1'000'500, 14, false, 500},
        {20, 1'000'600, 14, false, 100},  // repeated
        {30, 1'003'000, 28, false, 2'400},
        {21, 1'003'000, 28, false, 0},  // earlier stage, same millisecond
        {82, 1'063'000, 100, false, 60'000},
        {1000, 1'063'001, 100, true, 1},
    };
    std::uint64_t seq = 0;
    for (const Step& s : steps) {
        SCOPED_TRACE(s.code);
        const auto event = timeline.add(entry(1'000'000, seq, s.code, s.ts));
        ASSERT_TRUE(event.has_value());
        EXPECT_EQ(event->project, "demo");
        EXPECT_EQ(event->id, (EntryId{1'000'000, seq}));
        ASSERT_NE(event->code, nullptr);
        EXPECT_EQ(event->code, Catalog::builtin().find(s.code));
        EXPECT_EQ(event->ts_ms, s.ts);
        EXPECT_EQ(event->progress, s.progress);
        EXPECT_EQ(event->final, s.final);
        ASSERT_EQ(timeline.event_count(), seq + 1);
        const auto& stage = timeline.last_stage().value();
        EXPECT_EQ(stage.duration_ms, s.duration);
        EXPECT_EQ(stage.event.id, event->id);
        EXPECT_EQ(stage.event.progress, s.progress);
        ++seq;
    }
    EXPECT_TRUE(timeline.progress().succeeded());
    EXPECT_EQ(timeline.progress().started_ms(), 1'000'000);
    EXPECT_EQ(timeline.progress().updated_ms(), 1'063'001);
}

TEST(BuildTimeline, FirstStageHasNoDuration) {
    BuildTimeline timeline("demo", Catalog::builtin());
    EXPECT_TRUE(timeline.empty());
    ASSERT_TRUE(timeline.add(entry(5, 0, 40, 5'000)).has_value());
    ASSERT_EQ(timeline.event_count(), 1U);
    EXPECT_EQ(timeline.last_stage()->duration_ms, std::nullopt);
    EXPECT_EQ(timeline.last_stage()->event.progress, 57);
}

TEST(BuildTimeline, UnknownCodeSkipped) {
    BuildTimeline timeline("demo", Catalog::builtin());
    ASSERT_TRUE(timeline.add(entry(1, 0, 10, 1'000)).has_value());
    EXPECT_FALSE(timeline.add(entry(2, 0, 99, 2'000)).has_value());
    EXPECT_FALSE(timeline.add(entry(2, 1, -1, 2'000)).has_value());
    EXPECT_EQ(timeline.event_count(), 1U);
    EXPECT_EQ(timeline.progress().updated_ms(), 1'000);
    const auto next = timeline.add(entry(3, 0, 20, 3'000));
    ASSERT_TRUE(next.has_value());
    ASSERT_EQ(timeline.event_count(), 2U);
    EXPECT_EQ(timeline.last_stage()->duration_ms, 2'000);  // since the last known code
    EXPECT_EQ(next->progress, 14);
}

// The entry's name field does not matter: the catalog names the code.
TEST(BuildTimeline, NameFromCatalog) {
    BuildTimeline timeline("demo", Catalog::builtin());
    HistoryEntry e = entry(1, 0, 82, 1);
    e.name = "SOMETHING_ELSE";
    const auto event = timeline.add(e);
    ASSERT_TRUE(event.has_value());
    ASSERT_NE(event->code, nullptr);
    EXPECT_EQ(event->code->name, "SYNCED_CODE");
}

TEST(BuildTimeline, EntriesAfterFinalGiveNoEvent) {
    for (int final_code : {1000, 1001}) {
        SCOPED_TRACE(final_code);
        BuildTimeline timeline("demo", Catalog::builtin());
        ASSERT_TRUE(timeline.add(entry(1, 0, 10, 1)).has_value());
        const auto last = timeline.add(entry(2, 0, final_code, 2));
        ASSERT_TRUE(last.has_value());
        EXPECT_TRUE(last->final);
        const int percent = timeline.progress().percent();
        // A new build reusing the project's stream: ignored by this timeline.
        EXPECT_FALSE(timeline.add(entry(3, 0, 10, 3)).has_value());
        EXPECT_FALSE(timeline.add(entry(4, 0, 20, 4)).has_value());
        EXPECT_FALSE(timeline.add(entry(5, 0, 1000, 5)).has_value());
        EXPECT_EQ(timeline.event_count(), 2U);
        EXPECT_EQ(timeline.progress().percent(), percent);
        EXPECT_EQ(timeline.progress().updated_ms(), 2);
        EXPECT_EQ(timeline.progress().failed(), final_code == 1001);
    }
}

TEST(BuildTimeline, FailureFreezesEventProgress) {
    BuildTimeline timeline("demo", Catalog::builtin());
    std::vector<int> progress;
    std::vector<bool> finals;
    std::uint64_t ms = 10;
    for (int code : {10, 20, 21, 30, 1001}) {
        const auto event = timeline.add(entry(ms, 0, code, static_cast<std::int64_t>(ms)));
        ASSERT_TRUE(event.has_value());
        progress.push_back(event->progress);
        finals.push_back(event->final);
        ++ms;
    }
    EXPECT_EQ(progress, (std::vector<int>{7, 14, 21, 28, 28}));
    EXPECT_EQ(finals, (std::vector<bool>{false, false, false, false, true}));
    EXPECT_TRUE(timeline.progress().failed());
}

TEST(BuildTimeline, ClockSteppingBackGivesZeroDuration) {
    BuildTimeline timeline("demo", Catalog::builtin());
    ASSERT_TRUE(timeline.add(entry(10'000, 0, 10, 10'000)).has_value());
    ASSERT_TRUE(timeline.add(entry(10'000, 1, 20, 9'000)).has_value());
    EXPECT_EQ(timeline.last_stage()->duration_ms, 0);
    ASSERT_TRUE(timeline.add(entry(10'000, 2, 21, 9'250)).has_value());
    EXPECT_EQ(timeline.last_stage()->duration_ms, 250);
    EXPECT_EQ(timeline.event_count(), 3U);
}

TEST(BuildTimeline, ExtremeTimesDoNotOverflow) {
    BuildTimeline timeline("demo", Catalog::builtin());
    const auto first = timeline.add(entry(1, 0, 10, i64_min));
    ASSERT_TRUE(first.has_value());
    EXPECT_NE(first->to_json().find("1970-01-01T00:00:00.000Z"), std::string::npos);
    ASSERT_TRUE(timeline.add(entry(2, 0, 20, i64_max)).has_value());
    EXPECT_EQ(timeline.last_stage()->duration_ms, i64_max);
    ASSERT_TRUE(timeline.add(entry(3, 0, 21, -5)).has_value());
    EXPECT_EQ(timeline.last_stage()->duration_ms, 0);
    ASSERT_TRUE(timeline.add(entry(4, 0, 30, 5)).has_value());
    EXPECT_EQ(timeline.last_stage()->duration_ms, 10);
    EXPECT_EQ(timeline.event_count(), 4U);
}

// The events parsed from a stream read back into the same timeline.
TEST(BuildTimeline, FromParsedHistory) {
    const std::vector<std::pair<EntryId, Fields>> stream = {
        {{100, 0}, {{"code", "10"}, {"name", "PREPARED_CHROOT_ENV_CODE"}, {"ts", "100"}}},
        {{150, 0}, {{"code", "oops"}, {"ts", "150"}}},
        {{200, 0}, {{"code", "1000"}, {"name", "SUCCESSFUL_CODE"}, {"ts", "200"}}},
    };
    BuildTimeline timeline("chroot-only", Catalog::builtin());
    std::vector<int> percents;
    for (const auto& [id, fields] : stream) {
        const auto e = parse_history_entry(id, fields);
        if (!e) {
            continue;
        }
        const auto event = timeline.add(*e);
        ASSERT_TRUE(event.has_value());
        percents.push_back(event->progress);
    }
    EXPECT_EQ(percents, (std::vector<int>{7, 100}));
    ASSERT_EQ(timeline.event_count(), 2U);
    EXPECT_EQ(timeline.last_stage()->duration_ms, 100);
}

TEST(BuildTimelineState, RunningSucceededFailed) {
    BuildTimeline running("demo", Catalog::builtin());
    running.add(HistoryEntry{EntryId{1763938454570, 0}, 10, "", 1763938454570});
    running.add(HistoryEntry{EntryId{1763938454570, 1}, 20, "", 1763938454570});
    running.add(HistoryEntry{EntryId{1763938455570, 0}, 21, "", 1763938455570});
    EXPECT_EQ(running.state_json(),
              R"({"project":"demo","state":"running","progress":21,"stage":3,"stages":14,)"
              R"("code":21,"name":"SET_UP_TIMEZONE_CODE","description":"time zone set up",)"
              R"("started":"2025-11-23T22:54:14.570Z","updated":"2025-11-23T22:54:15.570Z",)"
              R"("last_id":"1763938455570-0","events":3})");

    BuildTimeline failed("demo", Catalog::builtin());
    failed.add(HistoryEntry{EntryId{1, 0}, 10, "", 1});
    failed.add(HistoryEntry{EntryId{2, 0}, 1001, "", 2});
    EXPECT_NE(failed.state_json().find(R"("state":"failed","progress":7,"stage":1)"),
              std::string::npos)
        << failed.state_json();

    BuildTimeline succeeded("demo", Catalog::builtin());
    succeeded.add(HistoryEntry{EntryId{1, 0}, 10, "", 1});
    succeeded.add(HistoryEntry{EntryId{2, 0}, 1000, "", 2});
    EXPECT_NE(succeeded.state_json().find(R"("state":"succeeded","progress":100)"),
              std::string::npos)
        << succeeded.state_json();
}

}  // namespace
}  // namespace bscd
