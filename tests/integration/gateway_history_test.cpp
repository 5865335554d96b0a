// bscd-gateway and long or trimmed histories: whatever a producer writes,
// a followed project's memory stays bounded; a viewer still gets the whole
// history Redis holds (what the feed no longer keeps is read again, page by
// page); and what Redis trimmed before the gateway read it is told with a
// gap event (and on the page, in a real browser) and counted, never
// skipped in silence.
//
// The histories are written straight into the stream (one Lua call), as a
// bscd with a large --history-length would write them, only faster.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/browser.hpp"
#include "support/gateway_fixture.hpp"
#include "support/sse_client.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string stream = "bscd-demo:events";

class GatewayHistoryTest : public GatewayTest {
protected:
    // Appends `count` stage codes (10 and 20 in turn) with ids "<n>-0",
    // n = first, first + 1, ...; returns the ids.
    std::vector<std::string> write_codes(long long first, long long count) {
        redis.command({"EVAL",
                       "for i = 0, tonumber(ARGV[2]) - 1 do "
                       "  local n = tonumber(ARGV[1]) + i "
                       "  redis.call('XADD', KEYS[1], n .. '-0', 'code', (n % 2 == 0) and 10 or 20,"
                       "             'ts', n) "
                       "end",
                       "1", stream, std::to_string(first), std::to_string(count)});
        std::vector<std::string> ids;
        for (long long n = first; n < first + count; ++n) {
            ids.push_back(std::to_string(n) + "-0");
        }
        return ids;
    }
    void announce() { redis.command({"PUBLISH", "bscd-demo", "x"}); }
    double metric(const std::string& series) const { return gateway_metric(series).value_or(-1); }

    // The ids of the next `count` events (status and gap), failing on any
    // event that is not a status event.
    static std::vector<std::string> status_ids(SseClient& viewer, std::size_t count) {
        std::vector<std::string> ids;
        while (ids.size() < count) {
            const auto event = viewer.next_event(10s);
            if (!event) {
                ADD_FAILURE() << "only " << ids.size() << " of " << count << " events came";
                break;
            }
            EXPECT_EQ(event->event, "status") << event->data;
            ids.push_back(event->id);
        }
        return ids;
    }

    // Whether a process runs with a sanitizer's runtime (its memory then
    // says nothing of the program's own).
    static bool sanitized(const Process& process) {
        std::ifstream maps("/proc/" + std::to_string(process.pid()) + "/maps");
        std::string line;
        while (std::getline(maps, line)) {
            if (line.find("libasan") != std::string::npos ||
                line.find("libtsan") != std::string::npos) {
                return true;
            }
        }
        return false;
    }

    // Resident memory of a process, in kB.
    static long rss_kb(const Process& process) {
        std::ifstream status("/proc/" + std::to_string(process.pid()) + "/status");
        std::string line;
        while (std::getline(status, line)) {
            if (line.rfind("VmRSS:", 0) == 0) {
                return std::stol(line.substr(6));
            }
        }
        return -1;
    }
};

// Longer than a feed keeps in memory (10,000 events): a new viewer gets
// every event from the first, a viewer resuming from far back every event
// after its id, in order, none twice, and then live ones.
TEST_F(GatewayHistoryTest, AHistoryLongerThanTheFeedKeepsIsServedWholeByPaging) {
    const std::vector<std::string> ids = write_codes(1'000'000, 25'000);
    auto gateway = start_gateway();

    SseClient first(gateway_port(), demo_events_path);
    ASSERT_EQ(first.status(), 200);
    EXPECT_EQ(status_ids(first, ids.size()), ids);

    SseClient resumed(gateway_port(), demo_events_path,
                      {.headers = {{"Last-Event-ID", ids[4'999]}}});
    ASSERT_EQ(resumed.status(), 200);
    EXPECT_EQ(status_ids(resumed, ids.size() - 5'000),
              std::vector<std::string>(ids.begin() + 5'000, ids.end()));

    const std::vector<std::string> live = write_codes(2'000'000, 3);
    announce();
    EXPECT_EQ(status_ids(first, 3), live);
    EXPECT_EQ(status_ids(resumed, 3), live);
    EXPECT_EQ(metric("bscd_gateway_backfills_total"), 2.0);
    EXPECT_EQ(metric("bscd_gateway_history_gaps_total"), 0.0);
}

// Entries trimmed after the gateway read an entry and before it read the
// next: its viewers get a gap event naming both sides, then the rest.
TEST_F(GatewayHistoryTest, EntriesTrimmedBeforeTheyWereReadAreAGapEvent) {
    const std::vector<std::string> before = write_codes(1'000, 2);
    auto gateway = start_gateway();
    SseClient viewer(gateway_port(), demo_events_path);
    ASSERT_EQ(viewer.status(), 200);
    EXPECT_EQ(status_ids(viewer, 2), before);

    // Before the gateway hears of them (it reads when told): three more,
    // and the stream trimmed to its last one.
    write_codes(2'000, 3);
    redis.command({"XTRIM", stream, "MAXLEN", "1"});
    announce();

    const auto gap = viewer.next_event(10s);
    ASSERT_TRUE(gap.has_value());
    EXPECT_EQ(gap->event, "gap");
    EXPECT_EQ(gap->id, "");  // no place to resume from
    const json data = json::parse(gap->data);
    EXPECT_EQ(data["type"], "gap");
    EXPECT_EQ(data["project"], "demo");
    EXPECT_EQ(data["after"], "1001-0");
    EXPECT_EQ(data["next"], "2002-0");
    EXPECT_EQ(status_ids(viewer, 1), std::vector<std::string>{"2002-0"});
    EXPECT_EQ(metric("bscd_gateway_history_gaps_total"), 1.0);

    // A viewer resuming from inside the gap is told too.
    SseClient resumed(gateway_port(), demo_events_path, {.headers = {{"Last-Event-ID", "2000-0"}}});
    const auto told = resumed.next_event(10s);
    ASSERT_TRUE(told.has_value());
    EXPECT_EQ(told->event, "gap");
    EXPECT_EQ(status_ids(resumed, 1), std::vector<std::string>{"2002-0"});

    // Write a sentinel: what came next for the first viewer is exactly it.
    const std::vector<std::string> sentinel = write_codes(3'000, 1);
    announce();
    EXPECT_EQ(status_ids(viewer, 1), sentinel);
}

// The page says so too, in words (tests/browser/gap_page_test.mjs, in
// Chromium), and lists what came after the gap.
TEST_F(GatewayHistoryTest, ThePageSaysWhenCodesWereTrimmedBeforeTheGatewayReadThem) {
    const std::filesystem::path script = browser_script("gap_page_test.mjs");
    ASSERT_TRUE(browser_ready(script));
    write_codes(1'000, 2);  // 10, then 20
    auto gateway = start_gateway();
    const RunResult result = run(
        {"node", script.string()},
        {{"PAGE_URL", gateway_url("/projects/demo")}, {"REDIS_PORT", std::to_string(redis.port())}},
        60s);
    EXPECT_EQ(result.status, 0) << "node " << script.string() << " failed (status " << result.status
                                << ", -1 is a timeout):\n"
                                << result.output << "\n--- bscd-gateway:\n"
                                << gateway->output();
    EXPECT_EQ(metric("bscd_gateway_history_gaps_total"), 1.0);
}

// Memory of a followed project is bounded however many codes a producer
// sent: 100,000 codes (about 28 MB of timeline and events before the
// timeline kept one time per code) leave the gateway a few MB larger.
TEST_F(GatewayHistoryTest, AFollowedProjectsMemoryIsBoundedWhateverAProducerSends) {
    constexpr std::size_t codes = 100'000;
    const std::vector<std::string> ids = write_codes(1'000'000, codes);
    // A viewer waits a heartbeat (15 s by default) for the history before it
    // is answered 503; reading 100,000 codes under a sanitizer on a busy
    // machine can take longer, so the gateway waits as long as the viewer.
    auto gateway = start_gateway({"--heartbeat", "60"});
    const long before = rss_kb(*gateway);

    // Resuming from the last but one: the feed reads everything, the viewer
    // gets one event. (Slow under a sanitizer: up to a minute.)
    SseClient viewer(gateway_port(), demo_events_path,
                     {.headers = {{"Last-Event-ID", ids[codes - 2]}}, .timeout = 60s});
    ASSERT_EQ(viewer.status(), 200);
    EXPECT_EQ(status_ids(viewer, 1), std::vector<std::string>{ids.back()});
    EXPECT_EQ(metric("bscd_gateway_events_received_total"), static_cast<double>(codes));
    const long after = rss_kb(*gateway);
    std::cout << "[  MEMORY  ] " << codes << " codes followed: the gateway grew by "
              << (after - before) << " kB\n";
    if (!sanitized(*gateway)) {
        EXPECT_LT(after - before, 12 * 1024) << "kB";
    }
}

}  // namespace
}  // namespace bscd::test
