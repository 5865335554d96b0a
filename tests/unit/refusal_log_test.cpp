#include "gateway/refusal_log.hpp"

#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace bscd {
namespace {

using namespace std::chrono_literals;
using Clock = RefusalLog::Clock;

// The default logger's lines, for the test's lifetime.
class RefusalLogTest : public ::testing::Test {
protected:
    void SetUp() override {
        previous_ = spdlog::default_logger();
        auto logger = std::make_shared<spdlog::logger>(
            "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
        logger->set_pattern("%v");
        spdlog::set_default_logger(logger);
    }
    void TearDown() override { spdlog::set_default_logger(previous_); }

    std::vector<std::string> lines() {
        std::vector<std::string> result;
        std::istringstream in(out_.str());
        for (std::string line; std::getline(in, line);) {
            result.push_back(line);
        }
        return result;
    }

    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(RefusalLogTest, TheFirstLinesOfAnIntervalAreLoggedThenCountedThenSummed) {
    RefusalLog log(3, 10s);
    const Clock::time_point t0{};
    int admitted = 0;
    for (int i = 0; i < 1000; ++i) {
        admitted += log.admit("10.0.0.1:" + std::to_string(i), t0 + i * 1ms) ? 1 : 0;
    }
    EXPECT_EQ(admitted, 3);
    EXPECT_TRUE(lines().empty()) << "no summary before the interval is over";
    log.flush_summary(t0 + 9s);
    EXPECT_TRUE(lines().empty());

    // The next refusal after the interval brings the summary, and is logged.
    EXPECT_TRUE(log.admit("10.0.0.2:1", t0 + 12500ms));
    ASSERT_EQ(lines().size(), 1u);
    EXPECT_EQ(lines()[0],
              "997 more refusals not logged in the last 13 s (the last from 10.0.0.1:999)");
    EXPECT_TRUE(log.admit("10.0.0.2:2", t0 + 12600ms));
    EXPECT_TRUE(log.admit("10.0.0.2:3", t0 + 12700ms));
    EXPECT_FALSE(log.admit("10.0.0.2:4", t0 + 12800ms));

    // Or the gateway's sweep asks for it; once only.
    log.flush_summary(t0 + 22500ms);
    log.flush_summary(t0 + 23500ms);
    ASSERT_EQ(lines().size(), 2u);
    EXPECT_EQ(lines()[1], "1 more refusals not logged in the last 10 s (the last from 10.0.0.2:4)");
}

TEST_F(RefusalLogTest, AnIntervalWithEveryRefusalLoggedHasNoSummary) {
    RefusalLog log(3, 10s);
    const Clock::time_point t0{};
    EXPECT_TRUE(log.admit("a", t0));
    EXPECT_TRUE(log.admit("b", t0 + 1s));
    log.flush_summary(t0 + 11s);
    EXPECT_TRUE(log.admit("c", t0 + 12s));
    EXPECT_TRUE(log.admit("d", t0 + 13s));
    EXPECT_TRUE(log.admit("e", t0 + 14s));
    EXPECT_TRUE(lines().empty());
}

// Several event loops refuse at once: every refusal is either admitted or
// counted in the summary, none lost, none twice.
TEST_F(RefusalLogTest, ThreadsShareOneCap) {
    RefusalLog log(20, 1h);
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 2500; ++i) {
                admitted += log.admit("peer") ? 1 : 0;
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(admitted.load(), 20);
    log.flush_summary(Clock::now() + 2h);
    ASSERT_EQ(lines().size(), 1u);
    EXPECT_TRUE(lines()[0].starts_with("9980 more refusals not logged in the last ")) << lines()[0];
}

}  // namespace
}  // namespace bscd
