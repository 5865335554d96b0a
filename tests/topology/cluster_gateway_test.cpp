// bscd-gateway on a real six-node Redis Cluster (issue 12, "the gateway,
// which reads many projects, keeps a slot map"): projects whose histories
// live on all three masters, SSE viewers following them while a master dies
// or hangs, and a slot migrated by hand (ASK, then MOVED) while a viewer
// follows a project in it. Events are written as bscd writes them: XADD of
// code, name and ts on the stream's master, then PUBLISH of the code.

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/cluster_slot.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/process_sockets.hpp"
#include "support/redis_cluster.hpp"
#include "support/serving_programs.hpp"
#include "support/sse_client.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Room for a failover (about 2 s), the gateway's backoff and a loaded machine.
constexpr auto recovery = 20s;

// NodeLocator's "any master": the subscriber's node is the middle slot's master.
constexpr int subscriber_slot = 8192;

std::string stream_of(const std::string& project) {
    return "bscd-" + project + ":events";
}

int slot_of(const std::string& project) {
    return key_hash_slot(stream_of(project));
}

std::vector<std::string> ids_of(const std::vector<SseEvent>& events) {
    std::vector<std::string> ids;
    ids.reserve(events.size());
    for (const auto& event : events) {
        ids.push_back(event.id);
    }
    return ids;
}

std::string now_ms() {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
}

class ClusterGatewayTest : public ::testing::Test {
protected:
    struct Project {
        std::string name;
        int owner = -1;                // the node the test writes to
        std::vector<std::string> ids;  // written, in order
    };

    // A project whose stream hashes to a slot of master `master` (as the
    // fixture lays them out), named by `prefix` and a number.
    Project project_on(int master, const std::string& prefix) {
        for (int i = 0;; ++i) {
            const std::string name = prefix + std::to_string(i);
            if (cluster.master_of_slot(slot_of(name)) == master) {
                return {name, master, {}};
            }
        }
    }

    // Starts bscd-gateway with the three masters as seeds; waits for /healthz 200.
    void start_gateway() {
        std::vector<std::string> seeds;
        for (int m = 0; m < RedisCluster::master_count; ++m) {
            seeds.insert(seeds.end(), {"--redis-cluster", cluster.node(m).address()});
        }
        auto started = start_serving_gateway(seeds);
        gateway = std::move(started.process);
        port = started.port;
    }

    int health() { return http_get(port, "/healthz", {}, 1s).status; }

    ::testing::AssertionResult health_becomes(int status, std::chrono::milliseconds timeout) {
        if (wait_until([&] { return health() == status; }, timeout)) {
            return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure() << "/healthz did not answer " << status;
    }

    std::optional<double> metric(const std::string& series) {
        const HttpResponse response = http_get(port, "/metrics");
        const auto at = response.body.find("\n" + series + " ");
        if (response.status != 200 || at == std::string::npos) {
            return std::nullopt;
        }
        return std::stod(response.body.substr(at + series.size() + 2));
    }

    int node_at(const std::string& address) {
        for (int i = 0; i < RedisCluster::node_count; ++i) {
            if (cluster.node(i).address() == address) {
                return i;
            }
        }
        throw std::runtime_error("no node at " + address);
    }

    // Writes one event of `project` as bscd does, on the master of its slot:
    // follows MOVED and ASK (with ASKING), waits out a failover. With
    // `replicate`, also waits until a replica has it (WAIT), so that a
    // failover later cannot lose it.
    void write(Project& project, int code, bool replicate = false) {
        static const std::map<int, std::string> names{
            {10, "PREPARED_CHROOT_ENV_CODE"}, {20, "SET_UP_LOCALE_CODE"},
            {21, "SET_UP_TIMEZONE_CODE"},     {30, "UPDATED_CODE"},
            {31, "INSTALLED_PACKAGES_CODE"},  {32, "UPGRADED_CODE"}};
        const std::vector<std::string> xadd = {
            "XADD", stream_of(project.name), "*",  "code",  std::to_string(code),
            "name", names.at(code),          "ts", now_ms()};
        std::string last;
        const bool written = wait_until(
            [&] {
                try {
                    RedisServer* node = &cluster.node(project.owner);
                    Reply added = node->command(xadd);
                    if (added.type == Reply::Error && added.str.starts_with("ASK ")) {
                        node = &cluster.node(node_at(added.str.substr(added.str.rfind(' ') + 1)));
                        (void)node->command({"ASKING"});
                        added = node->command(xadd);
                    }
                    if (added.type == Reply::Error) {
                        last = added.str;
                        if (added.str.starts_with("MOVED ")) {
                            project.owner = node_at(added.str.substr(added.str.rfind(' ') + 1));
                        }
                        return false;  // CLUSTERDOWN during a failover: again
                    }
                    project.ids.push_back(added.str);
                    (void)node->command({"PUBLISH", "bscd-" + project.name, std::to_string(code)});
                    if (replicate) {
                        EXPECT_EQ(node->command({"WAIT", "1", "5000"}).integer, 1);
                    }
                    return true;
                } catch (const std::runtime_error& error) {  // a node killed
                    last = error.what();
                    project.owner = cluster.master_of_slot(slot_of(project.name));
                    return false;
                }
            },
            recovery);
        ASSERT_TRUE(written) << "writing " << project.name << ": " << last;
    }

    std::unique_ptr<SseClient> view(const Project& project) {
        auto viewer =
            std::make_unique<SseClient>(port, "/api/v1/projects/" + project.name + "/events");
        EXPECT_EQ(viewer->status(), 200);
        return viewer;
    }

    // The viewer's next events are the project's ids from `from` on, once each.
    void expect_events(SseClient& viewer, const Project& project, std::size_t from,
                       std::chrono::milliseconds timeout = recovery) {
        const std::vector<std::string> expected(
            project.ids.begin() + static_cast<std::ptrdiff_t>(from), project.ids.end());
        EXPECT_EQ(ids_of(viewer.events(expected.size(), timeout)), expected)
            << project.name << "\ngateway:\n"
            << gateway->output();
    }

    // Nothing more for these viewers of `project`: a sentinel written now
    // is the next event of each (anything more would come first).
    void expect_sentinel_next(const std::vector<SseClient*>& viewers, Project& project) {
        write(project, 10);
        for (SseClient* viewer : viewers) {
            const auto next = viewer->next_event(recovery);
            ASSERT_TRUE(next.has_value()) << project.name << ": no sentinel";
            EXPECT_EQ(next->id, project.ids.back()) << project.name << ": more before the sentinel";
        }
    }

    // GET /api/v1/projects/{p}: the state of what was written.
    void expect_state(const Project& project) {
        const HttpResponse state = http_get(port, "/api/v1/projects/" + project.name);
        ASSERT_EQ(state.status, 200) << project.name << ": " << state.describe();
        const json parsed = json::parse(state.body, nullptr, false);
        EXPECT_EQ(parsed.value("last_id", ""), project.ids.back()) << state.body;
        EXPECT_EQ(parsed.value("events", 0U), project.ids.size()) << state.body;
    }

    RedisCluster cluster;
    std::unique_ptr<Process> gateway;
    int port = 0;
};

TEST_F(ClusterGatewayTest, ViewersOfProjectsOnThreeMastersSeeEveryEventOnceWhileAMasterDies) {
    std::vector<Project> projects;
    projects.reserve(RedisCluster::master_count);
    for (int m = 0; m < RedisCluster::master_count; ++m) {
        projects.push_back(project_on(m, "m" + std::to_string(m) + "-"));
    }
    // The master that also carries the gateway's subscription: the hardest loss.
    const int victim = cluster.master_of_slot(subscriber_slot);
    start_gateway();

    for (auto& project : projects) {
        write(project, 10, true);
        write(project, 20, true);
    }
    std::vector<std::unique_ptr<SseClient>> viewers;  // two per project
    for (std::size_t i = 0; i < projects.size() * 2; ++i) {
        viewers.push_back(view(projects[i / 2]));
        expect_events(*viewers.back(), projects[i / 2], 0, 5s);
    }
    for (auto& project : projects) {
        write(project, 21, true);
        write(project, 30, true);
    }
    for (std::size_t i = 0; i < viewers.size(); ++i) {
        expect_events(*viewers[i], projects[i / 2], 2, 5s);
    }

    const int replica = cluster.replica_of(victim);
    cluster.kill_node(victim);
    EXPECT_TRUE(health_becomes(503, 10s));
    const int promoted =
        cluster.wait_for_slot_master_change(slot_of(projects[victim].name), victim);
    EXPECT_EQ(promoted, replica);
    for (auto& project : projects) {  // the killed one's to the new master
        write(project, 31);
        write(project, 32);
    }
    EXPECT_EQ(projects[victim].owner, promoted);
    for (std::size_t i = 0; i < viewers.size(); ++i) {
        expect_events(*viewers[i], projects[i / 2], 4);
    }
    for (std::size_t p = 0; p < projects.size(); ++p) {
        expect_sentinel_next({viewers[2 * p].get(), viewers[2 * p + 1].get()}, projects[p]);
    }
    EXPECT_TRUE(health_becomes(200, recovery)) << gateway->output();
    for (const auto& project : projects) {
        expect_state(project);
    }
    EXPECT_EQ(metric("bscd_gateway_redis_up"), 1.0);
    EXPECT_GE(metric("bscd_gateway_redis_reconnects_total").value_or(0), 2.0)
        << "the subscriber and the reader's link to the promoted master";
}

TEST_F(ClusterGatewayTest, AViewerFollowsAProjectWhoseSlotIsMigrated) {
    // Two projects in one slot: `followed` has a viewer (its feed stays in
    // memory); `asked` only answers state requests, each read from Redis.
    std::map<int, std::string> by_slot;
    Project followed;
    Project asked;
    for (int i = 0; followed.name.empty(); ++i) {
        const std::string name = "mig-" + std::to_string(i);
        const auto [it, fresh] = by_slot.emplace(slot_of(name), name);
        if (!fresh) {
            followed.name = it->second;
            asked.name = name;
        }
    }
    const int slot = slot_of(followed.name);
    const int from = cluster.master_of_slot(slot);
    const int to = (from + 1) % RedisCluster::master_count;
    followed.owner = asked.owner = from;
    start_gateway();

    write(followed, 10);
    write(asked, 10);
    auto viewer = view(followed);
    expect_events(*viewer, followed, 0, 5s);
    expect_state(asked);

    cluster.begin_migration(slot, from, to);
    write(followed, 20);  // still on the source
    expect_events(*viewer, followed, 1, 5s);

    ASSERT_EQ(cluster.migrate_keys(slot, from, to), 2U);
    // The source answers ASK now: the gateway reads on the target after ASKING.
    write(followed, 21);
    write(asked, 20);
    EXPECT_EQ(asked.owner, from) << "written through ASK, without changing the map";
    expect_events(*viewer, followed, 2, 5s);
    expect_state(asked);

    cluster.finish_migration(slot, to);
    // The gateway's map still names the source: MOVED, then the target.
    write(followed, 30);
    write(followed, 31);
    write(asked, 21);
    EXPECT_EQ(followed.owner, to);
    expect_events(*viewer, followed, 3, 5s);
    expect_sentinel_next({viewer.get()}, followed);
    expect_state(asked);
    expect_state(followed);
    EXPECT_EQ(health(), 200);
}

TEST_F(ClusterGatewayTest, AHungSubscriberNodeIsLeftForAnother) {
    const int victim = cluster.master_of_slot(subscriber_slot);
    Project project = project_on((victim + 1) % RedisCluster::master_count, "live-");
    start_gateway();
    write(project, 10, true);
    auto viewer = view(project);
    expect_events(*viewer, project, 0, 5s);

    // Paused, the node keeps every link open and answers nothing: only
    // unanswered requests tell. (Whether /healthz says 503 meanwhile depends
    // on how soon the replica is promoted: the reader's links move with it.)
    // The gateway's links to the victim now; the subscriber link is one.
    const int victim_port = cluster.node(victim).port();
    const auto links = tcp_sockets_to(gateway->pid(), victim_port);
    ASSERT_FALSE(links.empty());
    const auto paused = std::chrono::steady_clock::now();
    cluster.pause_node(victim);
    // Noticed: the gateway dropped a link it had to the paused node.
    const auto dropped_one = [&] {
        const auto now = tcp_sockets_to(gateway->pid(), victim_port);
        return std::any_of(links.begin(), links.end(),
                           [&](unsigned long link) { return !now.contains(link); });
    };
    ASSERT_TRUE(wait_until(dropped_one, 10s)) << gateway->output();
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - paused);
    std::cout << "[  TIMING  ] paused subscriber node noticed: " << took.count() << " ms"
              << std::endl;
    EXPECT_LT(took, 5s);
    (void)cluster.wait_for_slot_master_change(subscriber_slot, victim);
    EXPECT_TRUE(health_becomes(200, recovery)) << gateway->output();
    // The operator is told which link left which node, and why.
    EXPECT_NE(gateway->output().find("Redis subscriber link to " + cluster.node(victim).address() +
                                     ": Redis did not answer within 2 s"),
              std::string::npos)
        << gateway->output();

    // Live events reach the viewer only through a subscription on a node
    // that answers: the gateway has left the paused one.
    write(project, 20);
    write(project, 21);
    expect_events(*viewer, project, 1);
    expect_sentinel_next({viewer.get()}, project);
    expect_state(project);
}

}  // namespace
}  // namespace bscd::test
