#include "core/progress.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/catalog.hpp"

namespace bscd {
namespace {

const Catalog& builtin() {
    return Catalog::builtin();
}

// The built-in catalog's code `value`; fails the test if it has none.
const StatusCode& code(int value, const Catalog& catalog = builtin()) {
    const StatusCode* c = catalog.find(value);
    EXPECT_NE(c, nullptr) << "no code " << value;
    static const StatusCode missing{-1, "MISSING", ""};
    return c != nullptr ? *c : missing;
}

// Value of a code pointer for comparisons; -1 for nullptr.
int value_of(const StatusCode* c) {
    return c != nullptr ? c->value : -1;
}

// Records `values` in order, at ts 1000, 1001, ...; returns the percent after each.
std::vector<int> record_all(BuildProgress& progress, const std::vector<int>& values,
                            const Catalog& catalog = builtin()) {
    std::vector<int> percents;
    std::int64_t ts = 1000;
    for (int v : values) {
        progress.record(code(v, catalog), ts++);
        percents.push_back(progress.percent());
    }
    return percents;
}

TEST(BuildProgress, InitialState) {
    const BuildProgress progress(builtin());
    EXPECT_EQ(progress.percent(), 0);
    EXPECT_EQ(progress.total_stages(), 14U);
    EXPECT_EQ(progress.stages_done(), 0U);
    EXPECT_EQ(progress.furthest_stage(), nullptr);
    EXPECT_EQ(progress.last_code(), nullptr);
    EXPECT_FALSE(progress.finished());
    EXPECT_FALSE(progress.succeeded());
    EXPECT_FALSE(progress.failed());
    EXPECT_EQ(progress.started_ms(), std::nullopt);
    EXPECT_EQ(progress.updated_ms(), std::nullopt);
}

// Every code of a complete Pieman build, with the state after each.
TEST(BuildProgress, FullPiemanBuild) {
    struct Step {
        int code;
        int percent;
        std::size_t stages_done;
        int furthest;
    };
    const Step steps[] = {
        {10, 7, 1, 10},   {20, 14, 2, 20},   {21, 21, 3, 21},     {30, 28, 4, 30},
        {31, 35, 5, 31},  {32, 42, 6, 32},   {33, 50, 7, 33},     {40, 57, 8, 40},
        {50, 64, 9, 50},  {60, 71, 10, 60},  {70, 78, 11, 70},    {80, 85, 12, 80},
        {81, 92, 13, 81}, {82, 100, 14, 82}, {1000, 100, 14, 82},
    };
    BuildProgress progress(builtin());
    std::int64_t ts = 1'763'938'454'570;
    for (const Step& s : steps) {
        SCOPED_TRACE(s.code);
        progress.record(code(s.code), ts);
        EXPECT_EQ(progress.percent(), s.percent);
        EXPECT_EQ(progress.stages_done(), s.stages_done);
        EXPECT_EQ(value_of(progress.furthest_stage()), s.furthest);
        EXPECT_EQ(value_of(progress.last_code()), s.code);
        EXPECT_EQ(progress.finished(), s.code == 1000);
        EXPECT_EQ(progress.succeeded(), s.code == 1000);
        EXPECT_FALSE(progress.failed());
        EXPECT_EQ(progress.updated_ms(), ts);
        ts += 1000;
    }
    EXPECT_EQ(progress.started_ms(), 1'763'938'454'570);
}

// Percent after each code, for sequences that exercise one rule each.
TEST(BuildProgress, PercentSequences) {
    struct Case {
        const char* rule;
        std::vector<int> codes;
        std::vector<int> percents;
        int furthest;
        int last;
    };
    const Case cases[] = {
        {"chroot-only build", {10, 1000}, {7, 100}, 10, 1000},
        {"skipped stage (no INCLUDES, no 31)", {10, 20, 21, 30, 32}, {7, 14, 21, 28, 42}, 32, 32},
        {"skip straight to the last stage", {10, 82}, {7, 100}, 82, 82},
        {"first code is a late stage", {40}, {57}, 40, 40},
        {"repeated stage", {10, 20, 20, 20}, {7, 14, 14, 14}, 20, 20},
        {"earlier stage", {10, 20, 30, 20, 10}, {7, 14, 28, 28, 28}, 30, 10},
        {"earlier then further", {10, 30, 20, 31}, {7, 28, 28, 35}, 31, 31},
        {"success before the last stage", {10, 20, 1000}, {7, 14, 100}, 20, 1000},
        {"success without any stage", {1000}, {100}, -1, 1000},
        {"failure freezes", {10, 20, 30, 1001}, {7, 14, 28, 28}, 30, 1001},
        {"failure after the last stage", {10, 82, 1001}, {7, 100, 100}, 82, 1001},
        {"failure without any stage", {1001}, {0}, -1, 1001},
        {"code after success ignored", {10, 1000, 20}, {7, 100, 100}, 10, 1000},
        {"code after failure ignored", {10, 1001, 82}, {7, 7, 7}, 10, 1001},
        {"success after failure ignored", {10, 1001, 1000}, {7, 7, 7}, 10, 1001},
        {"failure after success ignored", {10, 1000, 1001}, {7, 100, 100}, 10, 1000},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.rule);
        BuildProgress progress(builtin());
        EXPECT_EQ(record_all(progress, c.codes), c.percents);
        EXPECT_EQ(value_of(progress.furthest_stage()), c.furthest);
        EXPECT_EQ(value_of(progress.last_code()), c.last);
    }
}

TEST(BuildProgress, FailureFreezesAndMarksFailed) {
    BuildProgress progress(builtin());
    record_all(progress, {10, 20, 21, 30});
    progress.record(code(1001), 5000);
    EXPECT_EQ(progress.percent(), 28);
    EXPECT_EQ(progress.stages_done(), 4U);
    EXPECT_EQ(value_of(progress.furthest_stage()), 30);
    EXPECT_TRUE(progress.finished());
    EXPECT_TRUE(progress.failed());
    EXPECT_FALSE(progress.succeeded());
}

TEST(BuildProgress, SuccessKeepsFurthestStage) {
    BuildProgress progress(builtin());
    record_all(progress, {10, 20, 1000});
    EXPECT_EQ(progress.percent(), 100);
    EXPECT_EQ(progress.stages_done(), 2U);  // stages seen, not stages assumed
    EXPECT_EQ(value_of(progress.furthest_stage()), 20);
    EXPECT_TRUE(progress.finished());
    EXPECT_TRUE(progress.succeeded());
    EXPECT_FALSE(progress.failed());
}

TEST(BuildProgress, CodesAfterFinalChangeNothing) {
    BuildProgress progress(builtin());
    progress.record(code(10), 100);
    progress.record(code(1001), 200);
    progress.record(code(82), 300);
    progress.record(code(1000), 400);
    EXPECT_TRUE(progress.failed());
    EXPECT_FALSE(progress.succeeded());
    EXPECT_EQ(progress.percent(), 7);
    EXPECT_EQ(progress.stages_done(), 1U);
    EXPECT_EQ(value_of(progress.last_code()), 1001);
    EXPECT_EQ(progress.started_ms(), 100);
    EXPECT_EQ(progress.updated_ms(), 200);
}

TEST(BuildProgress, StartedAndUpdatedTimes) {
    BuildProgress progress(builtin());
    progress.record(code(10), 1'000);
    EXPECT_EQ(progress.started_ms(), 1'000);
    EXPECT_EQ(progress.updated_ms(), 1'000);
    progress.record(code(20), 2'500);
    EXPECT_EQ(progress.started_ms(), 1'000);
    EXPECT_EQ(progress.updated_ms(), 2'500);
    progress.record(code(10), 3'000);  // an earlier stage still updates the time
    EXPECT_EQ(progress.started_ms(), 1'000);
    EXPECT_EQ(progress.updated_ms(), 3'000);
    progress.record(code(1000), 4'000);
    EXPECT_EQ(progress.started_ms(), 1'000);
    EXPECT_EQ(progress.updated_ms(), 4'000);
}

TEST(BuildProgress, CodeTheCatalogLacksIsIgnored) {
    BuildProgress progress(builtin());
    const StatusCode unknown{99, "UNKNOWN_CODE", "not in the catalog"};
    progress.record(unknown, 500);
    EXPECT_EQ(progress.last_code(), nullptr);
    EXPECT_EQ(progress.started_ms(), std::nullopt);
    EXPECT_EQ(progress.percent(), 0);
    progress.record(code(10), 600);
    progress.record(unknown, 700);
    EXPECT_EQ(value_of(progress.last_code()), 10);
    EXPECT_EQ(progress.updated_ms(), 600);
    EXPECT_EQ(progress.percent(), 7);
}

// A code from another catalog object is matched by value, and the pointers
// handed out are this progress's catalog's own entries.
TEST(BuildProgress, PointersAreIntoItsOwnCatalog) {
    const Catalog other = Catalog::parse(builtin_catalog_text(), "<copy>");
    BuildProgress progress(builtin());
    progress.record(code(20, other), 1);
    EXPECT_EQ(progress.furthest_stage(), builtin().find(20));
    EXPECT_EQ(progress.last_code(), builtin().find(20));
    EXPECT_NE(progress.last_code(), other.find(20));
}

TEST(BuildProgress, CustomCatalog) {
    const Catalog catalog = Catalog::parse(
        "# three stages\n"
        "FETCHED=1\n"
        "BUILT=2\n"
        "PACKED=3\n"
        "DONE=1000\n"
        "BROKEN=1001\n",
        "<test>");
    BuildProgress progress(catalog);
    EXPECT_EQ(progress.total_stages(), 3U);
    EXPECT_EQ(record_all(progress, {1, 2, 3}, catalog), (std::vector<int>{33, 66, 100}));
    EXPECT_FALSE(progress.finished());  // all stages done is not success
    progress.record(code(1000, catalog), 9);
    EXPECT_TRUE(progress.succeeded());
    EXPECT_EQ(progress.percent(), 100);
}

TEST(BuildProgress, TotalStagesCountsCodesBelow1000) {
    struct Case {
        const char* text;
        std::size_t total;
    };
    const Case cases[] = {
        {"A=1\n", 1},
        {"A=1\nB=999\n", 2},
        {"A=1\nOK=1000\nFAIL=1001\nOTHER=1002\n", 1},
        {"OK=1000\nFAIL=1001\n", 0},
        {"A=0\nB=5\nOK=1000\nC=7\n", 3},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.text);
        const Catalog catalog = Catalog::parse(c.text, "<test>");
        EXPECT_EQ(BuildProgress(catalog).total_stages(), c.total);
    }
    EXPECT_EQ(BuildProgress(builtin()).total_stages(), 14U);
}

// Progress follows catalog (line) order, not the codes' numeric order.
TEST(BuildProgress, CatalogOrderNotValueOrder) {
    const Catalog catalog = Catalog::parse("LATE_VALUE=50\nEARLY_VALUE=10\nMID=30\n", "<test>");
    BuildProgress progress(catalog);
    EXPECT_EQ(record_all(progress, {50, 10, 30}, catalog), (std::vector<int>{33, 66, 100}));
    EXPECT_EQ(value_of(progress.furthest_stage()), 30);
    BuildProgress backwards(catalog);
    EXPECT_EQ(record_all(backwards, {30, 10, 50}, catalog), (std::vector<int>{100, 100, 100}));
    EXPECT_EQ(value_of(backwards.furthest_stage()), 30);
}

// A final code listed between stages does not count as a stage.
TEST(BuildProgress, FinalCodeBetweenStages) {
    const Catalog catalog = Catalog::parse("A=1\nFAIL=1001\nB=2\nOK=1000\n", "<test>");
    BuildProgress progress(catalog);
    EXPECT_EQ(progress.total_stages(), 2U);
    EXPECT_EQ(record_all(progress, {1, 2}, catalog), (std::vector<int>{50, 100}));
    EXPECT_EQ(progress.stages_done(), 2U);
}

TEST(BuildProgress, CatalogWithoutStages) {
    const Catalog catalog = Catalog::parse("OK=1000\nFAIL=1001\n", "<test>");
    BuildProgress failed(catalog);
    EXPECT_EQ(failed.percent(), 0);
    failed.record(code(1001, catalog), 1);
    EXPECT_EQ(failed.percent(), 0);
    EXPECT_TRUE(failed.failed());
    BuildProgress succeeded(catalog);
    succeeded.record(code(1000, catalog), 1);
    EXPECT_EQ(succeeded.percent(), 100);
}

// Any final code other than 1000 is a failure.
TEST(BuildProgress, OtherFinalCodeIsFailure) {
    const Catalog catalog = Catalog::parse("A=1\nB=2\nOK=1000\nFAIL=1001\nTIMEOUT=1002\n", "<t>");
    BuildProgress progress(catalog);
    record_all(progress, {1, 1002}, catalog);
    EXPECT_TRUE(progress.failed());
    EXPECT_EQ(progress.percent(), 50);
}

}  // namespace
}  // namespace bscd
