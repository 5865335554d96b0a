#pragma once
// A real Redis Sentinel group for one test: one master and two replicas
// (RedisServer, data nodes 0..2, node 0 the first master) and three
// sentinels (`redis-server sentinel.conf --sentinel`, quorum 2), all on
// 127.0.0.1 on free ports, each in its own temporary directory. Every process
// is killed and reaped, and every directory removed, when the object goes
// away, also when the constructor throws half-way.
//
// Fast and deterministic failover, for a loaded two-core CI machine:
// - Data nodes: no persistence (`--save ""`, `--appendonly no`, from
//   RedisServer), and `repl-diskless-sync yes` with `repl-diskless-sync-delay
//   0`: a full sync starts at once and writes no RDB file.
// - `down-after-milliseconds` 1000 and `failover-timeout` 3000 by default
//   (Options). The failover timeout also spaces retries (a sentinel tries
//   the same master again only after twice that time, e.g. after a split
//   vote) and bounds each step of a failover (election, promotion,
//   reconfiguring the other replica), so 3 s keeps a lost election cheap yet
//   leaves a slow machine several of the 1 s INFO rounds a promotion needs.
// - `SENTINEL DEBUG` timers (Redis 7.0 has them; they are global, not saved
//   in the config file, so they are set again whenever a sentinel starts):
//   info-period 1000 (default 10000: replicas and role changes are seen
//   within a second, and a restarted old master is turned into a replica
//   sooner), publish-period 500 (default 2000: the hello messages by which
//   sentinels find each other and learn a new master's address; a returning
//   old master is reconfigured after 4 of these), ask-period 250 (default
//   1000: how often a sentinel that sees the master down asks the others,
//   so ODOWN follows SDOWN sooner).
// - TILT: a sentinel whose timer runs more than tilt-trigger (2000 ms) late
//   stops acting for tilt-period (30 s): no SDOWN, no votes, no failover.
//   On a loaded machine running sanitizer builds a 2 s stall happens, and a
//   30 s pause would break every failover bound. Redis' event loop reads the
//   replies that arrived during a stall before it runs the timer, so a
//   stalled sentinel does not see healthy nodes as down; TILT protects
//   against clock jumps, which a test does not make. So tilt-trigger is
//   raised to 10000 and tilt-period cut to 1000: a stall under 10 s does not
//   TILT at all, and a longer one (or a clock stepping back) costs 1 s.
// - The replicas are in sync (master_link_status:up) before the sentinels
//   start, so each sentinel's first INFO of the master lists both replicas.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/redis_connection.hpp"
#include "support/redis_server.hpp"

namespace bscd::test {

struct RedisSentinelGroupOptions {
    std::string master_name = "mymaster";
    // The data nodes' requirepass (and masterauth, and the sentinels'
    // auth-pass); empty: none.
    std::string requirepass;
    // The sentinels' own requirepass (and their sentinel-pass, to reach each
    // other); empty: none.
    std::string sentinel_password;
    std::chrono::milliseconds down_after = std::chrono::milliseconds(1000);
    std::chrono::milliseconds failover_timeout = std::chrono::milliseconds(3000);
    // How long the constructor waits for the whole group to be ready.
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(30);
};

class RedisSentinelGroup {
public:
    using Options = RedisSentinelGroupOptions;
    static constexpr int node_count = 3;
    static constexpr int sentinel_count = 3;

    // Starts the master, both replicas (waits until both report
    // master_link_status:up) and the three sentinels; returns once every
    // sentinel names node 0 as the master, knows both replicas and the other
    // two sentinels, and CKQUORUM passes. Throws std::runtime_error, with
    // every log, when that does not happen within options.ready_timeout.
    RedisSentinelGroup();
    explicit RedisSentinelGroup(Options options);
    ~RedisSentinelGroup();
    RedisSentinelGroup(const RedisSentinelGroup&) = delete;
    RedisSentinelGroup& operator=(const RedisSentinelGroup&) = delete;

    // "127.0.0.1:PORT" of each sentinel, running or not.
    std::vector<std::string> sentinel_addresses() const;
    const std::string& master_name() const { return options_.master_name; }
    const std::string& password() const { return options_.requirepass; }
    const std::string& sentinel_password() const { return options_.sentinel_password; }

    // The data node (0..2) that the sentinels name as master now: the answer
    // of more than half of the running sentinels that answer. Throws
    // std::runtime_error when none answers or they disagree (use
    // wait_for_new_master() across a failover).
    int master_index();

    // Data node i, 0..2. Its command() talks to it directly.
    RedisServer& node(int i);
    // SIGKILL and reap.
    void kill_node(int i);
    // SIGSTOP / SIGCONT.
    void pause_node(int i);
    void resume_node(int i);
    // Starts a killed node again, same port, same arguments, empty (no
    // persistence), and returns once it answers PING. An old master comes
    // back as a master, a replica as a replica of node 0's port; the
    // sentinels reconfigure it as a replica of the current master (about 2 s
    // for an old master): wait_for_replica() waits for that.
    void restart_node(int i);

    // Waits until every running sentinel names the same data node other than
    // `old_index`, none of them reports a failover in progress, and that
    // node answers ROLE master; returns its index. Throws std::runtime_error
    // describing what each sentinel and node said when `timeout` passes.
    int wait_for_new_master(int old_index,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // SENTINEL FAILOVER to the first running sentinel (sent again while it
    // answers an error, e.g. INPROG or NOGOODSLAVE, until `timeout`), then
    // wait_for_new_master(the master before); returns the new master's index.
    int failover(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // Waits until data node i replicates the master the sentinels name, with
    // master_link_status:up. Throws std::runtime_error at the timeout.
    void wait_for_replica(int i, std::chrono::milliseconds timeout = std::chrono::seconds(30));

    // Sentinel s, 0..2: SIGTERM (SIGKILL after 10 s) and reap / start again
    // from its config file, which it rewrote with everything it learnt.
    // start_sentinel() sets the SENTINEL DEBUG timers again and returns once
    // the sentinel names a data node as master.
    void stop_sentinel(int s);
    void start_sentinel(int s);
    // All three.
    void stop_sentinels();
    void start_sentinels();
    int sentinel_port(int s) const;
    // A command to sentinel s over a connection owned by this object
    // (authenticated with sentinel_password()); as RedisServer::command.
    Reply sentinel_command(int s, const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // Every process' output and log, data nodes then sentinels, each under a
    // header naming it; for failure messages.
    std::string log() const;

private:
    class Sentinel;

    void start();
    std::string sentinel_config(int master_port) const;
    // Empty when ready, else what is missing.
    std::string not_ready();
    // Which data node has this port; -1 when none.
    int index_of_port(int port) const;
    // The data node sentinel s names; -1 when it names another address.
    int named_by(int s);
    // What each sentinel names and what each node says ROLE, for errors.
    std::string state();

    Options options_;
    std::vector<std::unique_ptr<RedisServer>> nodes_;
    std::vector<std::unique_ptr<Sentinel>> sentinels_;
};

}  // namespace bscd::test
