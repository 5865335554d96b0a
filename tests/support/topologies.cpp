#include "support/topologies.hpp"

#include "core/cluster_slot.hpp"

namespace bscd::test {

namespace {

std::vector<std::string> repeated(const std::string& option,
                                  const std::vector<std::string>& addresses) {
    std::vector<std::string> args;
    for (const auto& address : addresses) {
        args.insert(args.end(), {option, address});
    }
    return args;
}

std::string comma_list(const std::vector<std::string>& addresses) {
    std::string list;
    for (const auto& address : addresses) {
        list += (list.empty() ? "" : ",") + address;
    }
    return list;
}

}  // namespace

std::vector<std::string> SentinelTopology::options() const {
    return repeated("--redis-sentinel", group.sentinel_addresses());
}

EnvVars SentinelTopology::environment() const {
    return {{"REDIS_SENTINELS", comma_list(group.sentinel_addresses())}};
}

RedisServer& SentinelTopology::master_of(const std::string& /*key*/) {
    return group.node(group.master_index());
}

void SentinelTopology::kill_master_of(const std::string& /*key*/) {
    const int master = group.master_index();
    group.kill_node(master);
    group.wait_for_new_master(master);
}

std::vector<RedisServer*> SentinelTopology::data_nodes() {
    std::vector<RedisServer*> nodes;
    nodes.reserve(RedisSentinelGroup::node_count);
    for (int i = 0; i < RedisSentinelGroup::node_count; ++i) {
        nodes.push_back(&group.node(i));
    }
    return nodes;
}

std::vector<std::string> ClusterTopology::options() const {
    return repeated("--redis-cluster", cluster.seeds());
}

EnvVars ClusterTopology::environment() const {
    return {{"REDIS_CLUSTER", comma_list(cluster.seeds())}};
}

RedisServer& ClusterTopology::master_of(const std::string& key) {
    return cluster.node(cluster.master_of_slot(key_hash_slot(key)));
}

void ClusterTopology::kill_master_of(const std::string& key) {
    const int slot = key_hash_slot(key);
    const int master = cluster.master_of_slot(slot);
    cluster.kill_node(master);
    cluster.wait_for_slot_master_change(slot, master);
}

std::vector<RedisServer*> ClusterTopology::data_nodes() {
    std::vector<RedisServer*> nodes;
    nodes.reserve(RedisCluster::node_count);
    for (int i = 0; i < RedisCluster::node_count; ++i) {
        nodes.push_back(&cluster.node(i));
    }
    return nodes;
}

}  // namespace bscd::test
