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

std::vector<std::string> ClusterTopology::options() const {
    return repeated("--redis-cluster", cluster.seeds());
}

EnvVars ClusterTopology::environment() const {
    return {{"REDIS_CLUSTER", comma_list(cluster.seeds())}};
}

RedisServer& ClusterTopology::master_of(const std::string& key) {
    return cluster.node(cluster.master_of_slot(key_hash_slot(key)));
}

}  // namespace bscd::test
