#pragma once
// A real six-node Redis Cluster for one test: nodes 0..2 are the masters of
// slots 0-5460, 5461-10922 and 10923-16383, node 3, 4 and 5 the replica of
// node 0, 1 and 2. Each node is a RedisServer (no persistence, 127.0.0.1)
// with its own directory and nodes.conf; every process is killed and reaped,
// and every directory removed, when the object goes away, also when the
// constructor throws half-way.
//
// Choices, for a fast and deterministic cluster on a loaded CI machine:
// - Built by hand, not with `redis-cli --cluster create` (which polls the
//   join once a second and sleeps between steps): CLUSTER SET-CONFIG-EPOCH
//   (distinct epochs, no collision to resolve), CLUSTER ADDSLOTSRANGE, MEET
//   from node 0, and once every node knows every other one, CLUSTER
//   REPLICATE; each step is a command and a poll, and the layout is fixed.
// - Ports: a random port in 11000..21999, so that its cluster bus port
//   (port + 10000) is in 21000..31999: both below Linux' ephemeral range
//   (32768 and up), so no outgoing connection can hold them, and both are
//   checked free before each start attempt (RedisServer retries on another
//   port when redis-server still cannot bind).
// - `cluster-node-timeout` 1000 ms (Options): a killed master is PFAIL after
//   1 s, FAIL as soon as a majority of masters said so, and its replica is
//   elected within about 1 s more (500 ms + up to 500 ms random delay, rank
//   0: a master has one replica).
// - `cluster-replica-validity-factor 0`: a replica always stands for
//   election, however long its link was down (default: not after 10 node
//   timeouts, which a paused master or a slow machine can reach).
// - `cluster-allow-replica-migration no`: replicas never move to an orphaned
//   master on their own; the layout changes only by what a test does.
// - `repl-diskless-sync yes`, `repl-diskless-sync-delay 0`: a full sync
//   starts at once, without an RDB file.
// - `cluster-require-full-coverage` stays yes (Options): while a dead
//   master's slots have no owner, every node answers CLUSTERDOWN.
// Start-up takes a little over 2 s whatever the timers: a master does not
// turn cluster_state:ok until 2 s after it started (Redis'
// CLUSTER_WRITABLE_DELAY, fixed).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "support/redis_server.hpp"

namespace bscd::test {

struct RedisClusterOptions {
    // Every node's requirepass and masterauth; empty: none.
    std::string requirepass;
    std::chrono::milliseconds node_timeout = std::chrono::milliseconds(1000);
    bool require_full_coverage = true;
    // How long the constructor waits for the whole cluster to be ready.
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(30);
};

class RedisCluster {
public:
    using Options = RedisClusterOptions;
    static constexpr int node_count = 6;
    static constexpr int master_count = 3;
    static constexpr int slot_count = 16384;

    // Starts the six nodes and builds the cluster; returns once every node
    // says cluster_state:ok with all 16384 slots ok, sees 3 masters and 3
    // replicas as every other node does, and every replica's
    // master_link_status is up. Throws
    // std::runtime_error, with every log, when that does not happen within
    // options.ready_timeout.
    RedisCluster();
    explicit RedisCluster(Options options);
    ~RedisCluster();
    RedisCluster(const RedisCluster&) = delete;
    RedisCluster& operator=(const RedisCluster&) = delete;

    // "127.0.0.1:PORT" of all six nodes.
    std::vector<std::string> seeds() const;
    const std::string& password() const { return options_.requirepass; }

    // Node i, 0..5. Its command() talks to it directly (no redirections).
    RedisServer& node(int i);
    // Its cluster node id (stays across restarts: nodes.conf).
    const std::string& node_id(int i) const;

    // CLUSTER KEYSLOT, asked of a running node.
    int key_slot(const std::string& key);

    // The node that every running, unpaused node names as the owner of
    // `slot`, once they agree (waits up to `timeout` for that, then throws
    // std::runtime_error). It may be a node that was just killed.
    int master_of_slot(int slot, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // A running replica of master `master_index`, as the master (or, when it
    // does not run, another running node) sees it; throws
    // std::runtime_error when there is none.
    int replica_of(int master_index);

    // SIGKILL and reap.
    void kill_node(int i);
    // SIGSTOP / SIGCONT.
    void pause_node(int i);
    void resume_node(int i);
    // Starts a killed node again on its port with its nodes.conf, and
    // returns once it answers PING; it rejoins the cluster (an old master as
    // a replica of the node that took its slots). wait_for_ok() waits for
    // the cluster to settle.
    void restart_node(int i);

    // Waits until every running, unpaused node names the same owner of
    // `slot`, other than `old_master`, and that node answers ROLE master;
    // returns its index. Throws std::runtime_error describing every node's
    // view when `timeout` passes.
    int wait_for_slot_master_change(int slot, int old_master,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // CLUSTER FAILOVER [option] ("", "FORCE" or "TAKEOVER") on the replica;
    // waits until every node names it the owner of its master's slots, and
    // (when the old master runs) every node sees the old master as its
    // replica and the old master's link to it is up. Throws
    // std::runtime_error when the failover is refused or not done in time.
    void failover(int replica_index, const std::string& option = {},
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // Waits until every running, unpaused node says cluster_state:ok with all
    // 16384 slots ok, they all agree on who owns which slots and which
    // running node replicates which, and every running replica's link to its
    // master is up. Throws std::runtime_error at the timeout.
    void wait_for_ok(std::chrono::milliseconds timeout = std::chrono::seconds(30));

    // Slot migration by hand, in steps a test can interleave with traffic:
    // CLUSTER SETSLOT slot IMPORTING on `to`, then MIGRATING on `from`.
    void begin_migration(int slot, int from, int to);
    // CLUSTER GETKEYSINSLOT and MIGRATE, 100 keys at a time, until `from`
    // holds none of the slot; returns how many keys were moved.
    std::size_t migrate_keys(int slot, int from, int to);
    // CLUSTER SETSLOT slot NODE on `to`, then on the slot's old owner, then
    // on every other running master; waits until every running node names
    // `to` (throws std::runtime_error after `timeout`).
    void finish_migration(int slot, int to,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // Every node's output and log, each under a header naming it.
    std::string log() const;

private:
    void start();
    // Empty when ready, else what is missing; `layout`: also 3 masters and
    // 3 replicas in every view.
    std::string not_ready(bool layout);
    // Running and not paused: worth asking.
    bool answering(int i);
    // The index node i names as the owner of `slot`; -1 when none.
    int owner_in_view_of(int i, int slot);
    int index_of_id(const std::string& id) const;
    // Every node's role and its view of the slots, for errors.
    std::string state();

    Options options_;
    std::vector<std::unique_ptr<RedisServer>> nodes_;
    std::vector<std::string> ids_;
};

}  // namespace bscd::test
