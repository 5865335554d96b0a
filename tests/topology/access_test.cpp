// The least-privileged Redis users of README.md's "Access", with the extra
// commands docs/scaling.md lists for each topology, set on every data node
// (ACL users are not replicated): bscd as one project's builder with
// --redis-replicas 1, and bscd-gateway as the read-only viewer, report and
// show a build through the loss of the master that serves it.

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/history_codes.hpp"
#include "support/process.hpp"
#include "support/producer_client.hpp"
#include "support/serving_programs.hpp"
#include "support/sse_client.hpp"
#include "support/temp_dir.hpp"
#include "support/topologies.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

const std::string builder_password = "builder-Pw-0x61";
const std::string viewer_password = "viewer-Pw-0x62";

// docs/scaling.md, "Access": what each topology adds to the README's users.
template <class Topology>
struct TopologyAccess;
template <>
struct TopologyAccess<SentinelTopology> {
    // ROLE confirms the master; WAIT for --redis-replicas.
    static std::vector<std::string> builder() { return {"+role", "+wait"}; }
    static std::vector<std::string> viewer() { return {"+role"}; }
};
template <>
struct TopologyAccess<ClusterTopology> {
    // The slot map, and ASKING during a migration.
    static std::vector<std::string> builder() { return {"+cluster|slots", "+asking", "+wait"}; }
    static std::vector<std::string> viewer() { return {"+cluster|slots", "+asking"}; }
};

std::vector<std::string> concat(std::vector<std::string> head,
                                const std::vector<std::string>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

template <class Topology>
class TopologyAccessTest : public ::testing::Test {
protected:
    TopologyAccessTest() {
        using Access = TopologyAccess<Topology>;
        // README.md's users, word for word, and the topology's extras.
        const auto builder = concat({"ACL",
                                     "SETUSER",
                                     "builder-demo",
                                     "on",
                                     ">" + builder_password,
                                     "resetchannels",
                                     "&bscd-demo",
                                     "resetkeys",
                                     "~bscd-demo:events",
                                     "~{bscd-demo:events}:*",
                                     "~bscd-profile:*",
                                     "~bscd-builds",
                                     "-@all",
                                     "+ping",
                                     "+xinfo|stream",
                                     "+script|load",
                                     "+eval",
                                     "+evalsha",
                                     "+exists",
                                     "+xadd",
                                     "+xrange",
                                     "+publish",
                                     "+pexpire",
                                     "+pttl",
                                     "+hsetnx",
                                     "+hset",
                                     "+hmget",
                                     "+lrange",
                                     "+lpush",
                                     "+ltrim",
                                     "+zadd",
                                     "+zremrangebyscore"},
                                    Access::builder());
        const auto viewer = concat({"ACL",
                                    "SETUSER",
                                    "viewer",
                                    "on",
                                    ">" + viewer_password,
                                    "resetchannels",
                                    "&bscd-*",
                                    "resetkeys",
                                    "%R~bscd-*:events",
                                    "%R~{bscd-*:events}:*",
                                    "%R~bscd-profile:*",
                                    "%R~bscd-builds",
                                    "-@all",
                                    "+ping",
                                    "+subscribe",
                                    "+unsubscribe",
                                    "+xrange",
                                    "+xread",
                                    "+hmget",
                                    "+lrange"},
                                   Access::viewer());
        for (RedisServer* node : topology.data_nodes()) {
            EXPECT_EQ(node->command(builder).str, "OK");
            EXPECT_EQ(node->command(viewer).str, "OK");
        }
    }

    // `code` sent, answered OK.
    void send(ProducerClient& client, int code) {
        client.write(std::to_string(code) + "\n");
        ASSERT_EQ(client.read_lines(1), "OK\n") << code;
    }

    Topology topology;
    TempDir dir;
};

TYPED_TEST_SUITE(TopologyAccessTest, Topologies, TopologyName);

TYPED_TEST(TopologyAccessTest, TheDocumentedUsersReportAndShowABuildThroughAFailover) {
    const auto redis = this->topology.options();
    auto daemon = start_serving_bscd(
        concat({bin("bscd"), "--project", "demo", "--runtime-dir", this->dir.path(),
                "--redis-replicas", "1", "--redis-user", "builder-demo", "--redis-password-file",
                this->dir.write_file("builder", builder_password)},
               redis),
        this->dir.file("bscd-demo.pid"), 15s);
    const auto gateway =
        start_serving_gateway(concat({"--redis-user", "viewer", "--redis-password-file",
                                      this->dir.write_file("viewer", viewer_password)},
                                     redis));
    const int port = gateway.port;

    ProducerClient client(this->dir.file("bscd-demo.sock"));
    const std::vector<int> before{10, 20, 21};
    const std::vector<int> after{30, 31, 32};
    for (int code : before) {
        this->send(client, code);
    }
    SseClient viewer(port, "/api/v1/projects/demo/events");
    ASSERT_EQ(viewer.status(), 200) << viewer.body();
    ASSERT_EQ(viewer.events(before.size(), 15s).size(), before.size())
        << gateway.process->output() << daemon->output();
    this->topology.kill_master_of("bscd-demo:events");
    for (int code : after) {
        this->send(client, code);
    }

    std::vector<std::string> expected;
    for (const auto& codes : {before, after}) {
        for (int code : codes) {
            expected.push_back(std::to_string(code));
        }
    }
    std::vector<std::string> history;
    EXPECT_TRUE(wait_until(
        [&] {
            try {
                history = history_codes(this->topology.master_of("bscd-demo:events"), "bscd-demo");
            } catch (const std::exception&) {
                return false;
            }
            return history.size() >= expected.size();
        },
        30s));
    EXPECT_EQ(history, expected) << daemon->output();
    std::vector<std::string> shown;
    for (const auto& event : viewer.events(after.size(), 30s)) {
        shown.push_back(std::to_string(nlohmann::json::parse(event.data).value("code", 0)));
    }
    EXPECT_EQ(shown, std::vector<std::string>(expected.begin() + 3, expected.end()))
        << gateway.process->output();
    EXPECT_EQ(daemon->output().find("NOPERM"), std::string::npos) << daemon->output();
    EXPECT_EQ(gateway.process->output().find("NOPERM"), std::string::npos)
        << gateway.process->output();
}

}  // namespace
}  // namespace bscd::test
