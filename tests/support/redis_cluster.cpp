#include "support/redis_cluster.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <netinet/in.h>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>

#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

constexpr auto probe_timeout = 1000ms;  // one command while polling
constexpr int bus_port_offset = 10000;
constexpr int lowest_port = 11000;   // bus ports from 21000
constexpr int highest_port = 21999;  // bus ports to 31999, below 32768

std::chrono::milliseconds left_until(std::chrono::steady_clock::time_point deadline) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
}

// True when 127.0.0.1:port can be bound now.
bool bindable(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

// A port whose cluster bus port is free too; see the header.
int cluster_port() {
    thread_local std::mt19937 random(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
    std::uniform_int_distribution<int> pick(lowest_port, highest_port);
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const int port = pick(random);
        if (bindable(port) && bindable(port + bus_port_offset)) {
            return port;
        }
    }
    throw std::runtime_error("no free port with a free cluster bus port in " +
                             std::to_string(lowest_port) + ".." + std::to_string(highest_port));
}

// "field:value" out of an INFO or CLUSTER INFO reply; empty when absent.
std::string info_field(const std::string& info, const std::string& field) {
    const std::string key = field + ":";
    std::size_t at = info.rfind('\n' + key);
    if (at == std::string::npos) {
        if (info.compare(0, key.size(), key) != 0) {
            return {};
        }
        at = 0;
    } else {
        ++at;
    }
    const std::size_t begin = at + key.size();
    const std::size_t end = info.find_first_of("\r\n", begin);
    return info.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// One line of CLUSTER NODES.
struct NodeLine {
    std::string id;
    std::string flags;                       // e.g. "myself,master", "slave", "master,fail"
    std::string master;                      // the master's id for a replica, else "-"
    std::string link;                        // "connected" or "disconnected"
    std::vector<std::pair<int, int>> slots;  // owned ranges, inclusive

    bool has_flag(const std::string& flag) const {
        std::istringstream in(flags);
        std::string item;
        while (std::getline(in, item, ',')) {
            if (item == flag) {
                return true;
            }
        }
        return false;
    }
    bool owns(int slot) const {
        for (const auto& [first, last] : slots) {
            if (slot >= first && slot <= last) {
                return true;
            }
        }
        return false;
    }
};

std::vector<NodeLine> parse_nodes(const std::string& text) {
    std::vector<NodeLine> result;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::vector<std::string> field;
        std::string item;
        while (fields >> item) {
            field.push_back(item);
        }
        if (field.size() < 8) {
            continue;
        }
        NodeLine node{field[0], field[2], field[3], field[7], {}};
        for (std::size_t i = 8; i < field.size(); ++i) {
            const std::string& range = field[i];
            if (range.empty() || range[0] == '[') {
                continue;  // [slot->-id] migrating, [slot-<-id] importing
            }
            const auto dash = range.find('-');
            const int first = std::atoi(range.substr(0, dash).c_str());
            const int last =
                dash == std::string::npos ? first : std::atoi(range.c_str() + dash + 1);
            node.slots.emplace_back(first, last);
        }
        result.push_back(std::move(node));
    }
    return result;
}

void expect_ok(const Reply& reply, const std::string& what) {
    if (reply.type != Reply::Status || reply.str != "OK") {
        throw std::runtime_error(what + ": " + (reply.str.empty() ? "no OK" : reply.str));
    }
}

}  // namespace

RedisCluster::RedisCluster() : RedisCluster(Options{}) {}

RedisCluster::RedisCluster(Options options) : options_(std::move(options)) {
    try {
        start();
    } catch (const std::exception& e) {
        // The nodes already started are killed and reaped by their owners.
        throw std::runtime_error(std::string("RedisCluster did not come up: ") + e.what() + "\n" +
                                 state() + "\n" + log());
    }
}

RedisCluster::~RedisCluster() = default;

void RedisCluster::start() {
    const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
    std::vector<std::string> args = {"--cluster-enabled",
                                     "yes",
                                     "--cluster-config-file",
                                     "nodes.conf",  // in the node's own --dir
                                     "--cluster-node-timeout",
                                     std::to_string(options_.node_timeout.count()),
                                     "--cluster-require-full-coverage",
                                     options_.require_full_coverage ? "yes" : "no",
                                     "--cluster-replica-validity-factor",
                                     "0",
                                     "--cluster-allow-replica-migration",
                                     "no",
                                     "--repl-diskless-sync",
                                     "yes",
                                     "--repl-diskless-sync-delay",
                                     "0"};
    if (!options_.requirepass.empty()) {
        args.insert(args.end(), {"--masterauth", options_.requirepass});
    }
    for (int i = 0; i < node_count; ++i) {
        RedisServer::Options node_options;
        node_options.requirepass = options_.requirepass;
        node_options.extra_args = args;
        node_options.pick_port = cluster_port;
        nodes_.push_back(std::make_unique<RedisServer>(std::move(node_options)));
        const Reply id = nodes_.back()->command({"CLUSTER", "MYID"});
        if (id.type != Reply::String || id.str.empty()) {
            throw std::runtime_error("CLUSTER MYID on node " + std::to_string(i) + ": " + id.str);
        }
        ids_.push_back(id.str);
    }
    for (int i = 0; i < node_count; ++i) {
        expect_ok(node(i).command({"CLUSTER", "SET-CONFIG-EPOCH", std::to_string(i + 1)}),
                  "CLUSTER SET-CONFIG-EPOCH on node " + std::to_string(i));
    }
    // The ranges redis-cli --cluster create gives three masters.
    const std::pair<int, int> ranges[master_count] = {{0, 5460}, {5461, 10922}, {10923, 16383}};
    for (int m = 0; m < master_count; ++m) {
        expect_ok(node(m).command({"CLUSTER", "ADDSLOTSRANGE", std::to_string(ranges[m].first),
                                   std::to_string(ranges[m].second)}),
                  "CLUSTER ADDSLOTSRANGE on node " + std::to_string(m));
    }
    for (int i = 1; i < node_count; ++i) {
        expect_ok(node(0).command({"CLUSTER", "MEET", "127.0.0.1", std::to_string(node(i).port())}),
                  "CLUSTER MEET node " + std::to_string(i));
    }
    await("every node knowing every other", left_until(deadline), [&]() -> std::string {
        for (int i = 0; i < node_count; ++i) {
            const auto view = parse_nodes(node(i).command({"CLUSTER", "NODES"}, probe_timeout).str);
            int known = 0;
            for (const NodeLine& line : view) {
                if (index_of_id(line.id) >= 0 && !line.has_flag("handshake") &&
                    !line.has_flag("noaddr")) {
                    ++known;
                }
            }
            if (known != node_count) {
                return "node " + std::to_string(i) + " knows " + std::to_string(known);
            }
        }
        return {};
    });
    for (int r = master_count; r < node_count; ++r) {
        expect_ok(node(r).command({"CLUSTER", "REPLICATE", ids_[r - master_count]}),
                  "CLUSTER REPLICATE on node " + std::to_string(r));
    }
    await("cluster ready", left_until(deadline), [&] { return not_ready(true); });
}

bool RedisCluster::answering(int i) {
    return node(i).running() && !node(i).paused();
}

std::string RedisCluster::not_ready(bool layout) {
    // Who owns which slots and who replicates whom (among running nodes), as
    // one node sees it: every node must see the same.
    const auto summary = [&](const std::vector<NodeLine>& view) {
        std::vector<std::string> items;
        for (const NodeLine& line : view) {
            const int index = index_of_id(line.id);
            if (line.has_flag("master") && !line.slots.empty()) {
                std::string item = "node " + std::to_string(index) + " owns";
                for (const auto& [first, last] : line.slots) {
                    item += " " + std::to_string(first) + "-" + std::to_string(last);
                }
                items.push_back(item);
            } else if (line.has_flag("slave") && index >= 0 && node(index).running()) {
                items.push_back("node " + std::to_string(index) + " replicates node " +
                                std::to_string(index_of_id(line.master)));
            }
        }
        std::sort(items.begin(), items.end());
        std::string result;
        for (const std::string& item : items) {
            result += item + "; ";
        }
        return result;
    };
    std::string first_summary;
    int first = -1;
    for (int i = 0; i < node_count; ++i) {
        if (!answering(i)) {
            continue;
        }
        const std::string who = "node " + std::to_string(i) + " ";
        const std::string info = node(i).command({"CLUSTER", "INFO"}, probe_timeout).str;
        if (info_field(info, "cluster_state") != "ok" ||
            info_field(info, "cluster_slots_ok") != std::to_string(slot_count)) {
            return who + "cluster_state:" + info_field(info, "cluster_state") +
                   " cluster_slots_ok:" + info_field(info, "cluster_slots_ok");
        }
        const auto view = parse_nodes(node(i).command({"CLUSTER", "NODES"}, probe_timeout).str);
        const std::string seen = summary(view);
        if (first < 0) {
            first = i;
            first_summary = seen;
        } else if (seen != first_summary) {
            std::string difference = "node " + std::to_string(first) + " sees ";
            difference += first_summary;
            difference += "but " + who + "sees ";
            return difference + seen;
        }
        if (layout) {
            int masters = 0;
            int replicas = 0;
            for (const NodeLine& line : view) {
                masters += line.has_flag("master") ? 1 : 0;
                replicas += line.has_flag("slave") ? 1 : 0;
            }
            if (masters != master_count || replicas != node_count - master_count) {
                return who + "sees " + std::to_string(masters) + " masters and " +
                       std::to_string(replicas) + " replicas";
            }
        }
        for (const NodeLine& line : view) {
            if (line.has_flag("myself") && line.has_flag("slave")) {
                const std::string replication =
                    node(i).command({"INFO", "replication"}, probe_timeout).str;
                if (info_field(replication, "master_link_status") != "up") {
                    return who +
                           "master_link_status:" + info_field(replication, "master_link_status");
                }
            }
        }
    }
    return {};
}

std::vector<std::string> RedisCluster::seeds() const {
    std::vector<std::string> result;
    for (const auto& node : nodes_) {
        result.push_back(node->address());
    }
    return result;
}

RedisServer& RedisCluster::node(int i) {
    return *nodes_.at(static_cast<std::size_t>(i));
}

const std::string& RedisCluster::node_id(int i) const {
    return ids_.at(static_cast<std::size_t>(i));
}

int RedisCluster::index_of_id(const std::string& id) const {
    for (int i = 0; i < static_cast<int>(ids_.size()); ++i) {
        if (ids_[i] == id) {
            return i;
        }
    }
    return -1;
}

int RedisCluster::key_slot(const std::string& key) {
    for (int i = 0; i < node_count; ++i) {
        if (answering(i)) {
            const Reply slot = node(i).command({"CLUSTER", "KEYSLOT", key});
            if (slot.type != Reply::Integer) {
                throw std::runtime_error("CLUSTER KEYSLOT: " + slot.str);
            }
            return static_cast<int>(slot.integer);
        }
    }
    throw std::runtime_error("CLUSTER KEYSLOT: no node answers");
}

int RedisCluster::owner_in_view_of(int i, int slot) {
    for (const NodeLine& line :
         parse_nodes(node(i).command({"CLUSTER", "NODES"}, probe_timeout).str)) {
        if (line.has_flag("master") && line.owns(slot)) {
            return index_of_id(line.id);
        }
    }
    return -1;
}

int RedisCluster::master_of_slot(int slot, std::chrono::milliseconds timeout) {
    int agreed = -1;
    try {
        await("agreement on the master of slot " + std::to_string(slot), timeout,
              [&]() -> std::string {
                  agreed = -1;
                  for (int i = 0; i < node_count; ++i) {
                      if (!answering(i)) {
                          continue;
                      }
                      const int owner = owner_in_view_of(i, slot);
                      if (owner < 0 || (agreed >= 0 && owner != agreed)) {
                          return "the nodes disagree";
                      }
                      agreed = owner;
                  }
                  return agreed < 0 ? "no node answers" : "";
              });
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) + "\n" + state());
    }
    return agreed;
}

int RedisCluster::replica_of(int master_index) {
    int asked = answering(master_index) ? master_index : -1;
    for (int i = 0; i < node_count && asked < 0; ++i) {
        if (answering(i)) {
            asked = i;
        }
    }
    if (asked < 0) {
        throw std::runtime_error("replica_of: no node answers");
    }
    for (const NodeLine& line :
         parse_nodes(node(asked).command({"CLUSTER", "NODES"}, probe_timeout).str)) {
        const int index = index_of_id(line.id);
        if (line.has_flag("slave") && line.master == node_id(master_index) && index >= 0 &&
            node(index).running()) {
            return index;
        }
    }
    throw std::runtime_error("node " + std::to_string(master_index) + " has no running replica\n" +
                             state());
}

void RedisCluster::kill_node(int i) {
    node(i).kill();
}

void RedisCluster::pause_node(int i) {
    node(i).pause();
}

void RedisCluster::resume_node(int i) {
    node(i).resume();
}

void RedisCluster::restart_node(int i) {
    node(i).start();
}

int RedisCluster::wait_for_slot_master_change(int slot, int old_master,
                                              std::chrono::milliseconds timeout) {
    int agreed = -1;
    try {
        await("a new master of slot " + std::to_string(slot), timeout, [&]() -> std::string {
            agreed = -1;
            for (int i = 0; i < node_count; ++i) {
                if (!answering(i)) {
                    continue;
                }
                const int owner = owner_in_view_of(i, slot);
                if (owner < 0 || owner == old_master || (agreed >= 0 && owner != agreed)) {
                    return "node " + std::to_string(i) + " names node " + std::to_string(owner);
                }
                agreed = owner;
            }
            if (agreed < 0) {
                return "no node answers";
            }
            if (!answering(agreed)) {
                return "node " + std::to_string(agreed) + " does not answer";
            }
            const Reply role = node(agreed).command({"ROLE"}, probe_timeout);
            if (role.elements.empty() || role.elements[0].str != "master") {
                return "node " + std::to_string(agreed) + " is not master yet";
            }
            return {};
        });
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) + "\n" + state());
    }
    return agreed;
}

void RedisCluster::failover(int replica_index, const std::string& option,
                            std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int master = -1;
    int slot = -1;
    const auto view =
        parse_nodes(node(replica_index).command({"CLUSTER", "NODES"}, probe_timeout).str);
    for (const NodeLine& line : view) {
        if (line.has_flag("myself") && line.has_flag("slave")) {
            master = index_of_id(line.master);
        }
    }
    for (const NodeLine& line : view) {
        if (master >= 0 && line.id == node_id(master) && !line.slots.empty()) {
            slot = line.slots.front().first;
        }
    }
    if (master < 0 || slot < 0) {
        throw std::runtime_error("CLUSTER FAILOVER: node " + std::to_string(replica_index) +
                                 " is not the replica of a master with slots\n" + state());
    }
    std::vector<std::string> command = {"CLUSTER", "FAILOVER"};
    if (!option.empty()) {
        command.push_back(option);
    }
    expect_ok(node(replica_index).command(command),
              "CLUSTER FAILOVER on node " + std::to_string(replica_index));
    const int owner = wait_for_slot_master_change(slot, master, left_until(deadline));
    if (owner != replica_index) {
        throw std::runtime_error("CLUSTER FAILOVER on node " + std::to_string(replica_index) +
                                 ": node " + std::to_string(owner) + " took the slots\n" + state());
    }
    if (!answering(master)) {
        return;
    }
    try {
        await("the old master replicating the new one, as every node sees it", left_until(deadline),
              [&]() -> std::string {
                  for (int i = 0; i < node_count; ++i) {
                      if (!answering(i)) {
                          continue;
                      }
                      for (const NodeLine& line :
                           parse_nodes(node(i).command({"CLUSTER", "NODES"}, probe_timeout).str)) {
                          if (line.id == node_id(master) &&
                              (!line.has_flag("slave") || line.master != node_id(replica_index))) {
                              return "node " + std::to_string(i) + " sees node " +
                                     std::to_string(master) + " as " + line.flags;
                          }
                      }
                  }
                  const std::string replication =
                      node(master).command({"INFO", "replication"}, probe_timeout).str;
                  if (info_field(replication, "master_link_status") != "up") {
                      return "master_link_status:" + info_field(replication, "master_link_status");
                  }
                  return {};
              });
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) + "\n" + state());
    }
}

void RedisCluster::wait_for_ok(std::chrono::milliseconds timeout) {
    try {
        await("cluster ok", timeout, [&] { return not_ready(false); });
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) + "\n" + state());
    }
}

void RedisCluster::begin_migration(int slot, int from, int to) {
    const std::string s = std::to_string(slot);
    expect_ok(node(to).command({"CLUSTER", "SETSLOT", s, "IMPORTING", node_id(from)}),
              "CLUSTER SETSLOT " + s + " IMPORTING on node " + std::to_string(to));
    expect_ok(node(from).command({"CLUSTER", "SETSLOT", s, "MIGRATING", node_id(to)}),
              "CLUSTER SETSLOT " + s + " MIGRATING on node " + std::to_string(from));
}

std::size_t RedisCluster::migrate_keys(int slot, int from, int to) {
    std::size_t moved = 0;
    while (true) {
        const Reply keys =
            node(from).command({"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100"});
        if (keys.type != Reply::Array) {
            throw std::runtime_error("CLUSTER GETKEYSINSLOT on node " + std::to_string(from) +
                                     ": " + keys.str);
        }
        if (keys.elements.empty()) {
            return moved;
        }
        std::vector<std::string> command = {
            "MIGRATE", node(to).host(), std::to_string(node(to).port()), "", "0", "5000"};
        if (!options_.requirepass.empty()) {
            command.insert(command.end(), {"AUTH", options_.requirepass});
        }
        command.emplace_back("KEYS");
        for (const Reply& key : keys.elements) {
            command.push_back(key.str);
        }
        const Reply reply = node(from).command(command, std::chrono::seconds(10));
        if (reply.type != Reply::Status || (reply.str != "OK" && reply.str != "NOKEY")) {
            throw std::runtime_error("MIGRATE from node " + std::to_string(from) + " to node " +
                                     std::to_string(to) + ": " + reply.str);
        }
        moved += keys.elements.size();
    }
}

void RedisCluster::finish_migration(int slot, int to, std::chrono::milliseconds timeout) {
    const std::string s = std::to_string(slot);
    const int from = owner_in_view_of(to, slot);
    // The new owner first, then the old one (which then redirects with MOVED
    // instead of ASK), then the other masters.
    std::vector<int> order = {to};
    if (from >= 0 && from != to) {
        order.push_back(from);
    }
    for (int i = 0; i < node_count; ++i) {
        if (i == to || i == from || !answering(i)) {
            continue;
        }
        const Reply role = node(i).command({"ROLE"});
        if (!role.elements.empty() && role.elements[0].str == "master") {
            order.push_back(i);
        }
    }
    for (const int i : order) {
        expect_ok(node(i).command({"CLUSTER", "SETSLOT", s, "NODE", node_id(to)}),
                  "CLUSTER SETSLOT " + s + " NODE on node " + std::to_string(i));
    }
    const int owner = master_of_slot(slot, timeout);
    if (owner != to) {
        throw std::runtime_error("after CLUSTER SETSLOT " + s + " NODE, the nodes name node " +
                                 std::to_string(owner) + "\n" + state());
    }
}

std::string RedisCluster::state() {
    std::string result = "state:";
    for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
        result +=
            "\n  node " + std::to_string(i) + " (port " + std::to_string(node(i).port()) + "): ";
        if (!node(i).running()) {
            result += "not running";
            continue;
        }
        if (node(i).paused()) {
            result += "paused";
            continue;
        }
        try {
            const std::string info = node(i).command({"CLUSTER", "INFO"}, probe_timeout).str;
            result += "cluster_state:" + info_field(info, "cluster_state") + ", sees";
            for (const NodeLine& line :
                 parse_nodes(node(i).command({"CLUSTER", "NODES"}, probe_timeout).str)) {
                result += " " + std::to_string(index_of_id(line.id)) + "[" + line.flags;
                if (line.has_flag("slave")) {
                    result += " of " + std::to_string(index_of_id(line.master));
                }
                for (const auto& [first, last] : line.slots) {
                    result += " " + std::to_string(first) + "-" + std::to_string(last);
                }
                result += "]";
            }
        } catch (const std::exception& e) {
            result += e.what();
        }
    }
    return result;
}

std::string RedisCluster::log() const {
    std::string result;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        result += "=== node " + std::to_string(i) + " (port " + std::to_string(nodes_[i]->port()) +
                  ") ===\n" + nodes_[i]->log();
    }
    return result;
}

}  // namespace bscd::test
