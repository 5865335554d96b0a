// Hostile producers against one real bscd, a table of rows: each row is a
// client behaviour with its expected outcome. After every row a well-behaved
// client still gets OK, its code reaches Redis exactly once, and nothing the
// row did not expect to publish was published.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/request.hpp"
#include "support/bscd_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::size_t max_connections = 16;
constexpr std::size_t megabyte = std::size_t{1024} * 1024;

// The resident memory of a process in bytes (VmRSS), 0 when unknown.
std::size_t resident_bytes(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmRSS:")) {
            return std::stoul(line.substr(6)) * 1024;  // "VmRSS:   1234 kB"
        }
    }
    return 0;
}

std::string repeated(const std::string& line, std::size_t times) {
    std::string text;
    text.reserve(line.size() * times);
    for (std::size_t i = 0; i < times; ++i) {
        text += line;
    }
    return text;
}

class HostileProducerTest : public BscdTest {
protected:
    void SetUp() override {
        daemon_ = start_bscd({"--max-connections", std::to_string(max_connections),
                              "--idle-timeout", "5", "-l", log_file()});
        subscriber_ = std::make_unique<Subscriber>(redis, "bscd-demo");
    }

    std::string log_file() const { return dir.file("bscd.log"); }

    // What a row leaves behind for the check: connections it holds open
    // while a well-behaved client is served.
    std::vector<std::unique_ptr<ProducerClient>> held_;

    // A well-behaved client sends `code`: OK, and Redis gets exactly the
    // codes the row was expected to publish, then `code`, each once.
    void expect_well_behaved_client_served(const std::string& code,
                                           const std::vector<std::string>& row_published) {
        ASSERT_TRUE(daemon_->running()) << daemon_->output();
        std::string reply;
        // Connections a row closed end in bscd a moment later: until then
        // a full house may still answer "too many connections".
        EXPECT_TRUE(wait_until([&] {
            reply = exchange(socket_path(), code + "\n");
            return reply != "ERR too many connections\n";
        }));
        EXPECT_EQ(reply, "OK\n");
        std::vector<std::string> expected = row_published;
        expected.push_back(code);
        EXPECT_EQ(subscriber_->collect(expected.size()), expected);
        expected_history_.insert(expected_history_.end(), expected.begin(), expected.end());
        EXPECT_EQ(history(), expected_history_);
    }

    std::unique_ptr<Process> daemon_;
    std::unique_ptr<Subscriber> subscriber_;
    std::vector<std::string> expected_history_;  // every code Redis should have, in order
};

struct Row {
    std::string behaviour;
    std::function<void()> run;                // the hostile client, asserting what it gets
    std::vector<std::string> published = {};  // codes the row itself gets accepted
};

TEST_F(HostileProducerTest, EveryRowLeavesBscdServingOthers) {
    const auto exchange_each =
        [this](const std::vector<std::pair<std::string, std::string>>& requests) {
            for (const auto& [request, reply] : requests) {
                EXPECT_EQ(exchange(socket_path(), request), reply) << printable(request);
            }
        };

    const std::vector<Row> rows{
        {"slowloris: connections up to near the limit trickle a request, one byte at a time, "
         "and never finish it",
         [&] {
             for (std::size_t i = 0; i + 4 < max_connections; ++i) {
                 held_.push_back(std::make_unique<ProducerClient>(socket_path()));
             }
             for (int round = 0; round < 5; ++round) {
                 for (auto& client : held_) {
                     client->write("X");  // never a code: nothing to publish at their end
                 }
             }
         }},
        {"one line of 64 MB without a newline: bscd's memory stays bounded",
         [&] {
             const std::size_t before = resident_bytes(daemon_->pid());
             ProducerClient client(socket_path());
             const std::string chunk(megabyte, '7');
             for (int i = 0; i < 64; ++i) {
                 client.write(chunk);
             }
             client.write("\n");
             EXPECT_EQ(client.read_lines(1), "ERR request too long\n");
             const std::size_t after = resident_bytes(daemon_->pid());
             EXPECT_LT(after, before + 8 * megabyte) << before << " -> " << after;
         }},
        {"two thousand over-long lines, each answered, and the log not flooded",
         [&] {
             const std::size_t log_before = fs::file_size(log_file());
             ProducerClient client(socket_path());
             client.write(repeated(std::string(300, '1') + "\n", 2000));
             client.close_write();
             EXPECT_EQ(client.read_lines(2000, 10s), repeated("ERR request too long\n", 2000));
             // A warning per rejected request would be some 200 KB.
             EXPECT_LT(fs::file_size(log_file()), log_before + std::size_t{16} * 1024);
         }},
        {"invalid UTF-8, binary and NUL bytes",
         [&] {
             exchange_each({
                 {"\xc3\x28\n", "ERR not a request: \\xc3(\n"},
                 {"\xed\xa0\x80\n", "ERR not a request: \\xed\\xa0\\x80\n"},
                 {std::string("1\0"
                              "0\n",
                              4),
                  "ERR not a request: 1\\x000\n"},
                 {std::string("\0\n", 2), "ERR not a request: \\x00\n"},
                 {"\x01\x02\x7f\xff\n", "ERR not a request: \\x01\\x02\\x7f\\xff\n"},
             });
         }},
        {"CR/LF tricks: one CR before the LF is a line end (CRLF clients), any other is data",
         [&] {
             exchange_each({
                 {"10\r\n", "OK\n"},
                 {"10\rEXIT\n", "ERR not a request: 10\\x0dEXIT\n"},
                 {"EXIT\r\r\n", "ERR not a request: EXIT\\x0d\n"},
                 {"\rEXIT\n", "ERR not a request: \\x0dEXIT\n"},
                 {"\r\n\r\n", "ERR empty request\nERR empty request\n"},
                 {"10\n\n", "OK\nERR empty request\n"},
             });
         },
         {"10", "10"}},
        {"ANSI escape sequences: escaped in replies, never raw in the log",
         [&] {
             exchange_each({
                 {"\x1b[31mBOGUS\x1b[0m\n", "ERR not a request: \\x1b[31mBOGUS\\x1b[0m\n"},
                 {"\x1b]0;owned\x07\n", "ERR not a request: \\x1b]0;owned\\x07\n"},
                 {"\x1b[2J\x1b[H\n", "ERR not a request: \\x1b[2J\\x1b[H\n"},
             });
             // Warnings are flushed at once.
             const std::string log = read_file(log_file());
             EXPECT_EQ(log.find('\x1b'), std::string::npos) << "a raw escape in the log";
             EXPECT_NE(log.find("\\x1b[31mBOGUS\\x1b[0m"), std::string::npos) << log;
         }},
        {"EXIT from a user that is neither the daemon's nor root",
         [&] {
             if (::geteuid() != 0) {
                 std::cerr << "[  ROW SKIPPED ] needs root to act as another user\n";
                 return;
             }
             fs::permissions(dir.path(), fs::perms::others_exec, fs::perm_options::add);
             fs::permissions(socket_path(), fs::perms::all);
             const auto result = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                      bin("bsc"), "-a", socket_path(), "EXIT"});
             EXPECT_EQ(result.status, 1);
             EXPECT_NE(result.output.find("ERR EXIT is allowed only to uid"), std::string::npos)
                 << result.output;
             EXPECT_TRUE(fs::exists(pid_file()));
         }},
        {"a flood of connections beyond --max-connections",
         [&] {
             // Each says something, so that its first line tells a session
             // (ERR unknown code name) from a refusal.
             std::size_t sessions = 0;
             std::size_t refused = 0;
             std::vector<std::unique_ptr<ProducerClient>> flood;
             while (refused < 8 && flood.size() < 4 * max_connections) {
                 flood.push_back(std::make_unique<ProducerClient>(socket_path()));
                 // A refused one may be closed before it writes: no error then.
                 (void)flood.back()->write_nonblocking("FLOOD\n");
                 const std::string reply = flood.back()->read_lines(1);
                 if (reply == "ERR too many connections\n") {
                     ++refused;
                 } else {
                     EXPECT_EQ(reply, "ERR unknown code name FLOOD\n");
                     ++sessions;
                 }
             }
             EXPECT_EQ(refused, 8u);
             EXPECT_LE(sessions, max_connections);
         }},
        {"a client that never reads its replies while it sends thousands of codes",
         [&] {
             const std::size_t before = resident_bytes(daemon_->pid());
             held_.push_back(std::make_unique<ProducerClient>(socket_path()));
             ProducerClient& greedy = *held_.back();
             const std::string burst = repeated("99\n", 4096);  // not in the catalog
             std::size_t written = 0;
             // Until bscd stops taking them: no room for half a second.
             while (greedy.wait_writable(500ms) && written < 64 * megabyte) {
                 written += greedy.write_nonblocking(burst);
             }
             EXPECT_LT(written, 64 * megabyte) << "bscd kept reading";
             const std::size_t after = resident_bytes(daemon_->pid());
             EXPECT_LT(after, before + 8 * megabyte) << before << " -> " << after;
         }},
    };

    const std::vector<std::string> well_behaved{"10", "20", "21", "30", "31",
                                                "32", "33", "40", "50", "60"};
    ASSERT_LE(rows.size(), well_behaved.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        SCOPED_TRACE("row " + std::to_string(i + 1) + ": " + rows[i].behaviour);
        try {
            rows[i].run();
        } catch (const std::exception& e) {  // a client's I/O failed: say where
            ADD_FAILURE() << e.what() << "\nbscd:\n" << daemon_->output();
        }
        expect_well_behaved_client_served(well_behaved[i], rows[i].published);
        held_.clear();
    }
    EXPECT_TRUE(daemon_->running()) << daemon_->output();
}

TEST_F(HostileProducerTest, ASlowlorisRequestEndsWithinTheIdleTimeoutOfItsFirstByte) {
    auto daemon = start_bscd({"--idle-timeout", "1"}, "slow");
    ProducerClient client(socket_path("slow"));
    const auto start = std::chrono::steady_clock::now();
    bool closed = false;
    // A byte every 200 ms: never idle for the whole second.
    while (!closed && std::chrono::steady_clock::now() - start < 4s) {
        (void)client.write_nonblocking("X");
        closed = client.closed_by_peer(200ms);
    }
    EXPECT_TRUE(closed);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
}

}  // namespace
}  // namespace bscd::test
