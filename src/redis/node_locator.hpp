#pragma once
// Which Redis node serves a key, the one seam between the programs and the
// topology (docs/architecture.md, "Reaching Redis"):
//
//   Standalone  the node configured (host:port or Unix socket);
//   Sentinel    the master the sentinels name now, asked in turn; the node
//               comes marked must_be_master, so the handshake confirms it;
//   Cluster     the master of the key's slot, from a slot map read with
//               CLUSTER SLOTS and corrected by MOVED.
//
// Asynchronous, on the Asio loop, so that asking sentinels never stalls the
// producers' sessions. RedisLink asks it before every (re)connection.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/cluster_slot.hpp"
#include "core/host_port.hpp"
#include "redis/async_connection.hpp"
#include "redis/redis_options.hpp"

namespace bscd {

class NodeLocator {
public:
    NodeLocator(boost::asio::io_context& io, RedisOptions options);

    // The node for `key` (empty: the master in Sentinel mode, any master
    // in a cluster), or nullopt with the reason (every sentinel or seed
    // tried). `done` runs from the event loop, never from inside locate().
    using Found = std::function<void(std::optional<RedisOptions> node, const std::string& error)>;
    void locate(const std::string& key, Found done);

    // Redis answered MOVED: `slot` is served by `node` now.
    void moved(std::uint16_t slot, const HostPort& node);

    // What was found may be stale (a lost link, READONLY, a node that is not
    // the master): the next locate() asks the sentinels or the cluster again.
    void forget();

    // Cluster: the slot map itself, for an owner that routes many keys over
    // links of its own (the gateway's history reader). The master of `slot`,
    // nullopt while no map is loaded or no master serves it.
    [[nodiscard]] std::optional<HostPort> master_of(std::uint16_t slot) const;
    // The nodes that serve at least one slot.
    [[nodiscard]] std::vector<HostPort> masters() const;
    // Reads the slot map again, keeping the current one until the new one is
    // in (forget() drops it); `done` as locate("")'s.
    void reload(Found done);

    [[nodiscard]] const RedisOptions& options() const { return options_; }

private:
    void resolve();
    void ask_sentinel(std::size_t index, const std::string& failures);
    void ask_cluster(std::size_t index, const std::string& failures);
    [[nodiscard]] bool load_slots(const redisReply& reply, const HostPort& asked);
    void finish(const std::string& error);
    [[nodiscard]] std::optional<RedisOptions> node_for(const std::string& key) const;

    boost::asio::io_context& io_;
    RedisOptions options_;
    AsyncConnection query_;  // to a sentinel or a cluster node, while resolving
    std::chrono::milliseconds query_timeout_{1000};
    bool resolving_ = false;
    struct Waiter {
        std::string key;
        Found done;
    };
    std::vector<Waiter> waiters_;

    // Sentinel: the master last named (with must_be_master set).
    std::optional<RedisOptions> master_;
    // Cluster: known nodes, and each slot's master as an index into them.
    std::vector<HostPort> nodes_;
    std::array<std::int16_t, cluster_slots> slot_owner_{};
    bool have_slots_ = false;

    std::shared_ptr<NodeLocator*> self_ = std::make_shared<NodeLocator*>(this);
};

}  // namespace bscd
