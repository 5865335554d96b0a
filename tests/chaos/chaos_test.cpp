// The chaos run: a seeded random schedule of the topology faults against
// several builds reporting at once and a gateway viewer of each, on a real
// Sentinel group and then on a real Cluster. Each fault ends once the
// topology is whole again; between faults codes keep flowing. At the end,
// for every build, the history holds exactly the codes bscd answered OK,
// once each and in order, and the viewer that stayed connected saw exactly
// those.
//
// It prints the seed and every fault with its time, so a failure can be
// replayed: the same seed gives the same faults in the same order (the
// traffic between them is timed by the machine).
//   BSCD_CHAOS_SEED     the schedule's seed (default: from the clock)
//   BSCD_CHAOS_SECONDS  seconds of faults per topology (default 25);
//                       scripts/chaos.sh runs it longer

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/cluster_slot.hpp"
#include "support/code_stream.hpp"
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
using Clock = std::chrono::steady_clock;

constexpr int build_count = 3;
constexpr std::size_t chunk = 5;      // codes per write
constexpr auto pace = 250ms;          // between writes: 20 codes/s per build
constexpr auto settle_timeout = 60s;  // for the last codes to reach history and viewers

long long setting(const char* name, long long fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? std::stoll(value) : fallback;
}

// One build: its bscd (--redis-replicas 1, a spool), and a thread that keeps
// sending its codes at a build's pace. The mutex is held while a chunk is
// sent and while bscd is replaced, so every code sent is answered.
class ChaosBuild {
public:
    ChaosBuild(std::string project, std::vector<std::string> redis_options, std::size_t codes)
        : project_(std::move(project)),
          redis_options_(std::move(redis_options)),
          stream_(dir_.path(), codes, CodeValues::below_final) {
        daemon_ = start_daemon();
        client_ = std::make_unique<ProducerClient>(socket_path());
        producer_ = std::thread([this] { produce(); });
    }
    ~ChaosBuild() { stop(); }
    ChaosBuild(const ChaosBuild&) = delete;
    ChaosBuild& operator=(const ChaosBuild&) = delete;

    const std::string& project() const { return project_; }
    std::string channel() const { return "bscd-" + project_; }
    const std::string& catalog_file() const { return stream_.catalog_file(); }

    // SIGKILL with codes held, and a new bscd on the same spool.
    void restart_bscd() {
        const std::lock_guard lock(mutex_);
        daemon_->kill();
        client_.reset();
        daemon_ = start_daemon();
        client_ = std::make_unique<ProducerClient>(socket_path());
    }

    void stop() {
        producing_ = false;
        if (producer_.joinable()) {
            producer_.join();
        }
    }

    // After stop(): what bscd answered OK, and any trouble the producer met.
    const std::vector<std::string>& accepted() const { return stream_.accepted(); }
    std::size_t refused() const { return refused_; }
    const std::string& failure() const { return failure_; }
    std::string output() const {
        const std::lock_guard lock(mutex_);
        return daemon_->output();
    }

private:
    std::string socket_path() const { return dir_.file("bscd-" + project_ + ".sock"); }

    std::unique_ptr<Process> start_daemon() {
        std::vector<std::string> args{bin("bscd"),
                                      "--project",
                                      project_,
                                      "--runtime-dir",
                                      dir_.path(),
                                      "--codes",
                                      stream_.catalog_file(),
                                      "--history-length",
                                      "1000000",
                                      "--redis-replicas",
                                      "1",
                                      "--spool",
                                      dir_.path()};
        args.insert(args.end(), redis_options_.begin(), redis_options_.end());
        return start_serving_bscd(args, dir_.file("bscd-" + project_ + ".pid"), 30s);
    }

    void produce() {
        try {
            while (producing_) {
                {
                    const std::lock_guard lock(mutex_);
                    if (stream_.sent() + chunk > stream_.size()) {
                        failure_ = "the codes ran out: make the stream longer";
                        return;
                    }
                    refused_ += stream_.send(*client_, chunk).size();
                }
                std::this_thread::sleep_for(pace);  // a build's pace, not synchronisation
            }
        } catch (const std::exception& e) {
            failure_ = e.what();
        }
    }

    std::string project_;
    std::vector<std::string> redis_options_;
    TempDir dir_;
    CodeStream stream_;
    mutable std::mutex mutex_;
    std::unique_ptr<Process> daemon_;
    std::unique_ptr<ProducerClient> client_;
    std::atomic<bool> producing_{true};
    std::size_t refused_ = 0;
    std::string failure_;
    std::thread producer_;  // last: it starts once everything else is there
};

// An SSE viewer of one project that stays connected, read by its own thread
// (a viewer that stops reading would be cut off as a slow one).
class ChaosViewer {
public:
    ChaosViewer(int port, const std::string& project)
        : client_(port, "/api/v1/projects/" + project + "/events"), reader_([this] { read(); }) {}
    ~ChaosViewer() {
        reading_ = false;
        reader_.join();
    }
    ChaosViewer(const ChaosViewer&) = delete;
    ChaosViewer& operator=(const ChaosViewer&) = delete;

    std::vector<std::string> codes() const {
        const std::lock_guard lock(mutex_);
        return codes_;
    }
    bool ended() const { return ended_; }

private:
    void read() {
        while (reading_ && !ended_) {
            if (auto event = client_.next_event(200ms)) {
                const auto code = nlohmann::json::parse(event->data).value("code", 0);
                const std::lock_guard lock(mutex_);
                codes_.push_back(std::to_string(code));
            } else {
                ended_ = client_.ended();
            }
        }
    }

    SseClient client_;
    mutable std::mutex mutex_;
    std::vector<std::string> codes_;
    std::atomic<bool> reading_{true};
    std::atomic<bool> ended_{false};
    std::thread reader_;
};

struct Fault {
    std::string name;
    std::function<std::string(std::mt19937&)> run;  // returns what it did
};

template <class Topology>
class ChaosTest : public ::testing::Test {
protected:
    void run_chaos(const std::vector<Fault>& topology_faults) {
        const auto seed = static_cast<unsigned>(
            setting("BSCD_CHAOS_SEED", Clock::now().time_since_epoch().count() % 1'000'000));
        const auto seconds = setting("BSCD_CHAOS_SECONDS", 25);
        std::cout << std::fixed << std::setprecision(1);
        std::cout << "chaos on " << Topology::name << ": seed " << seed << ", " << seconds
                  << " s; replay with BSCD_CHAOS_SEED=" << seed << " BSCD_CHAOS_SECONDS=" << seconds
                  << std::endl;
        std::mt19937 random(seed);

        // Enough codes for the run at 20/s, with room for a slow end.
        const auto codes = static_cast<std::size_t>(seconds + 120) * 20;
        for (int b = 0; b < build_count; ++b) {
            builds.push_back(std::make_unique<ChaosBuild>("chaos" + std::to_string(b),
                                                          topology.options(), codes));
        }
        start_gateway();
        for (const auto& build : builds) {
            viewers.push_back(std::make_unique<ChaosViewer>(gateway_port, build->project()));
        }

        std::vector<Fault> faults = topology_faults;
        faults.push_back(
            {"bscd SIGKILLed with codes held, restarted on its spool", [&](std::mt19937& r) {
                 auto& build = *builds[r() % builds.size()];
                 build.restart_bscd();
                 return build.project();
             }});
        const auto start = Clock::now();
        const auto end = start + std::chrono::seconds(seconds);
        for (int step = 1; Clock::now() < end; ++step) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500 + random() % 1500));
            const Fault& fault = faults[random() % faults.size()];
            const auto at = std::chrono::duration<double>(Clock::now() - start).count();
            const std::string what = fault.run(random);
            std::cout << "  " << step << ". at " << at << " s: " << fault.name << " (" << what
                      << "), whole again after "
                      << std::chrono::duration<double>(Clock::now() - start).count() - at << " s"
                      << std::endl;  // flushed: a hung step shows where
        }
        for (const auto& build : builds) {
            build->stop();
        }
        check(seed, seconds);
    }

    void start_gateway() {
        std::vector<std::string> options{"--codes", builds.front()->catalog_file()};
        const auto redis = topology.options();
        options.insert(options.end(), redis.begin(), redis.end());
        auto started = start_serving_gateway(options);
        gateway = std::move(started.process);
        gateway_port = started.port;
    }

    // Every build: the history is exactly what was answered OK, and so is
    // what its viewer saw.
    void check(unsigned seed, long long seconds) {
        for (std::size_t b = 0; b < builds.size(); ++b) {
            const ChaosBuild& build = *builds[b];
            SCOPED_TRACE(build.project() + ", seed " + std::to_string(seed) + ", " +
                         std::to_string(seconds) + " s");
            EXPECT_EQ(build.failure(), "");
            const auto& accepted = build.accepted();
            std::cout << build.project() << ": " << accepted.size() << " codes accepted, "
                      << build.refused() << " refused\n";
            std::vector<std::string> history;
            const bool complete = wait_until(
                [&] {
                    try {
                        history = history_codes(topology.master_of(build.channel() + ":events"),
                                                build.channel());
                    } catch (const std::exception&) {
                        return false;
                    }
                    return history.size() >= accepted.size();
                },
                settle_timeout);
            EXPECT_TRUE(complete) << history.size() << " of " << accepted.size();
            EXPECT_EQ(history, accepted) << build.output().substr(0, 4000);
            const ChaosViewer& viewer = *viewers[b];
            EXPECT_TRUE(wait_until([&] { return viewer.codes().size() >= accepted.size(); },
                                   settle_timeout));
            EXPECT_FALSE(viewer.ended()) << "the gateway ended the viewer's stream";
            EXPECT_EQ(viewer.codes(), accepted) << gateway->output().substr(0, 4000);
        }
    }

    Topology topology;
    std::vector<std::unique_ptr<ChaosBuild>> builds;
    std::unique_ptr<Process> gateway;
    int gateway_port = 0;
    std::vector<std::unique_ptr<ChaosViewer>> viewers;  // last: they read from the gateway
};

using SentinelChaosTest = ChaosTest<SentinelTopology>;
using ClusterChaosTest = ChaosTest<ClusterTopology>;

TEST_F(SentinelChaosTest, EveryCodeAnsweredOkIsInTheHistoryOnceAndSeenOnce) {
    RedisSentinelGroup& group = topology.group;
    // A killed or paused node comes back as a replica of the new master.
    const auto rejoin = [&](int node) {
        group.restart_node(node);
        group.wait_for_replica(node);
    };
    run_chaos({
        {"master SIGKILLed",
         [&](std::mt19937&) {
             const int master = group.master_index();
             group.kill_node(master);
             const int promoted = group.wait_for_new_master(master);
             rejoin(master);
             return "node " + std::to_string(master) + " → " + std::to_string(promoted);
         }},
        {"master paused past down-after",
         [&](std::mt19937&) {
             const int master = group.master_index();
             group.pause_node(master);
             const int promoted = group.wait_for_new_master(master);
             group.resume_node(master);
             group.wait_for_replica(master);
             return "node " + std::to_string(master) + " → " + std::to_string(promoted);
         }},
        {"SENTINEL FAILOVER",
         [&](std::mt19937&) {
             const int master = group.master_index();
             return "node " + std::to_string(master) + " → " + std::to_string(group.failover());
         }},
        {"a window never replicated, then the master SIGKILLed",
         [&](std::mt19937&) {
             const int master = group.master_index();
             std::vector<int> replicas;
             for (int node = 0; node < RedisSentinelGroup::node_count; ++node) {
                 if (node != master) {
                     replicas.push_back(node);
                     group.pause_node(node);
                 }
             }
             group.node(master).command({"CLIENT", "KILL", "TYPE", "replica"});
             std::this_thread::sleep_for(300ms);  // pacing: codes arrive that no replica has
             group.kill_node(master);
             for (int node : replicas) {
                 group.resume_node(node);
             }
             const int promoted = group.wait_for_new_master(master);
             rejoin(master);
             return "node " + std::to_string(master) + " → " + std::to_string(promoted);
         }},
        {"a replica SIGKILLed",
         [&](std::mt19937& r) {
             const int master = group.master_index();
             const int replica =
                 (master + 1 + static_cast<int>(r() % 2)) % RedisSentinelGroup::node_count;
             group.kill_node(replica);
             rejoin(replica);
             return "node " + std::to_string(replica);
         }},
        {"every sentinel stopped for a second",
         [&](std::mt19937&) {
             group.stop_sentinels();
             std::this_thread::sleep_for(1s);  // pacing: codes flow with no sentinel
             group.start_sentinels();
             return "all three";
         }},
    });
}

TEST_F(ClusterChaosTest, EveryCodeAnsweredOkIsInTheHistoryOnceAndSeenOnce) {
    RedisCluster& cluster = topology.cluster;
    // The slot of a build's stream, and the master that serves it now.
    const auto slot_of_build = [&](std::mt19937& r) {
        return key_hash_slot("bscd-chaos" + std::to_string(r() % build_count) + ":events");
    };
    const auto master_of_build = [&](std::mt19937& r) {
        return cluster.master_of_slot(slot_of_build(r));
    };
    run_chaos({
        {"the master of a build's slot SIGKILLed",
         [&](std::mt19937& r) {
             const int slot = slot_of_build(r);
             const int master = cluster.master_of_slot(slot);
             cluster.kill_node(master);
             const int promoted = cluster.wait_for_slot_master_change(slot, master);
             cluster.restart_node(master);
             cluster.wait_for_ok();
             return "node " + std::to_string(master) + " → " + std::to_string(promoted);
         }},
        {"the master of a build's slot paused past the node timeout",
         [&](std::mt19937& r) {
             const int slot = slot_of_build(r);
             const int master = cluster.master_of_slot(slot);
             cluster.pause_node(master);
             const int promoted = cluster.wait_for_slot_master_change(slot, master);
             cluster.resume_node(master);
             cluster.wait_for_ok();
             return "node " + std::to_string(master) + " → " + std::to_string(promoted);
         }},
        {"CLUSTER FAILOVER",
         [&](std::mt19937& r) {
             const int master = master_of_build(r);
             const int replica = cluster.replica_of(master);
             cluster.failover(replica);
             return "node " + std::to_string(master) + " → " + std::to_string(replica);
         }},
        {"a build's slot migrated to another master",
         [&](std::mt19937& r) {
             const int slot = slot_of_build(r);
             const int from = cluster.master_of_slot(slot);
             int to = from;
             while (to == from) {  // another master, whichever node it is now
                 to = cluster.master_of_slot(static_cast<int>(r() % RedisCluster::slot_count));
             }
             cluster.begin_migration(slot, from, to);
             cluster.migrate_keys(slot, from, to);
             cluster.finish_migration(slot, to);
             return "slot " + std::to_string(slot) + ": node " + std::to_string(from) + " → " +
                    std::to_string(to);
         }},
        {"a replica SIGKILLed",
         [&](std::mt19937& r) {
             const int replica = cluster.replica_of(master_of_build(r));
             cluster.kill_node(replica);
             cluster.restart_node(replica);
             cluster.wait_for_ok();
             return "node " + std::to_string(replica);
         }},
    });
}

}  // namespace
}  // namespace bscd::test
