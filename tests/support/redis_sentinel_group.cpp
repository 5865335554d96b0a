#include "support/redis_sentinel_group.hpp"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <hiredis/hiredis.h>

#include "support/free_port.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

constexpr auto probe_timeout = 1000ms;  // one command while polling
constexpr auto sentinel_start_timeout = 10s;

// SENTINEL DEBUG timers; see the header for why.
const std::vector<std::string> sentinel_debug_timers = {
    "SENTINEL",   "DEBUG", "info-period",  "1000",  "publish-period", "500",
    "ask-period", "250",   "tilt-trigger", "10000", "tilt-period",    "1000"};

// "field:value" out of an INFO reply; empty when absent.
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

// A RESP2 map (a flat array of names and values), as SENTINEL REPLICAS
// returns for each instance.
std::map<std::string, std::string> to_map(const Reply& reply) {
    std::map<std::string, std::string> result;
    for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        result[reply.elements[i].str] = reply.elements[i + 1].str;
    }
    return result;
}

std::string quoted(const std::string& value) {
    std::string result = "\"";
    for (const char c : value) {
        if (c == '"' || c == '\\') {
            result += '\\';
        }
        result += c;
    }
    return result + "\"";
}

std::string role_of(RedisServer& node) {
    if (!node.running()) {
        return "not running";
    }
    if (node.paused()) {
        return "paused";
    }
    try {
        const Reply role = node.command({"ROLE"}, probe_timeout);
        if (role.type != Reply::Array || role.elements.empty()) {
            return "ROLE: " + role.str;
        }
        std::string result = role.elements[0].str;
        if (result == "slave" && role.elements.size() >= 4) {
            result += " of " + role.elements[2].str + " (" + role.elements[3].str + ")";
        }
        return result;
    } catch (const std::exception& e) {
        return e.what();
    }
}

}  // namespace

// One sentinel process: its config file (which it rewrites) and log in its
// own temporary directory, and a connection for commands.
class RedisSentinelGroup::Sentinel {
public:
    explicit Sentinel(std::string password) : password_(std::move(password)) {}
    ~Sentinel() { kill(); }
    Sentinel(const Sentinel&) = delete;
    Sentinel& operator=(const Sentinel&) = delete;

    int port() const { return port_; }
    std::string config_file() const { return dir_.file("sentinel.conf"); }

    // First start: a config file with `body` after a `port` line, on another
    // free port for each attempt.
    void launch_new(const std::string& body) {
        std::string failures;
        for (int attempt = 1; attempt <= free_port_attempts; ++attempt) {
            port_ = free_port();
            std::ofstream(config_file(), std::ios::trunc)
                << "port " << port_ << "\n"
                << body << "logfile " << quoted(dir_.file("sentinel.log")) << "\n"
                << "dir " << quoted(dir_.path()) << "\n";
            std::string failure;
            if (launch(failure)) {
                return;
            }
            failures += "attempt " + std::to_string(attempt) + " (port " + std::to_string(port_) +
                        "): " + failure + "\n";
        }
        throw std::runtime_error("sentinel did not start:\n" + failures + "log:\n" + log());
    }

    // Again, from the config file as the sentinel left it.
    void start() {
        if (running()) {
            return;
        }
        forget_process();
        std::string failure;
        if (!launch(failure)) {
            throw std::runtime_error("sentinel did not restart on port " + std::to_string(port_) +
                                     ": " + failure + "\nlog:\n" + log());
        }
    }

    void stop() {
        if (!process_) {
            return;
        }
        process_->signal(SIGTERM);
        if (!process_->wait(10s)) {
            process_->kill();
        }
        forget_process();
    }

    void kill() {
        if (process_) {
            process_->kill();
            forget_process();
        }
    }

    bool running() { return process_ && process_->running(); }

    Reply command(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
        if (context_ && !idle_and_open(context_.get())) {
            context_.reset();
        }
        if (!context_) {
            context_ = connect_redis("127.0.0.1", port_, timeout, password_);
        } else {
            const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
            redisSetTimeout(context_.get(), tv);
        }
        try {
            return redis_command(context_.get(), args);
        } catch (...) {
            context_.reset();
            throw;
        }
    }

    std::string log() const {
        std::string result = previous_output_;
        if (process_) {
            result += process_->output();
        }
        return result + read_file(dir_.file("sentinel.log"));
    }

private:
    bool launch(std::string& failure) {
        process_.emplace(std::vector<std::string>{REDIS_SERVER_BIN, config_file(), "--sentinel"});
        bool exited = false;
        const bool up = wait_until(
            [&] {
                exited = !process_->running();
                return exited || ready();
            },
            sentinel_start_timeout);
        if (up && !exited) {
            const Reply timers = command(sentinel_debug_timers, 5s);
            if (timers.type == Reply::Status && timers.str == "OK") {
                return true;
            }
            failure = "SENTINEL DEBUG: " + timers.str;
            process_->kill();
        } else if (exited) {
            failure = "exited with status " + std::to_string(process_->exit_code().value_or(-1));
        } else {
            failure = "no PONG within " + std::to_string(sentinel_start_timeout.count()) + " s";
            process_->kill();
        }
        forget_process();
        return false;
    }

    // PONG, from this process (not another test's that took the port).
    bool ready() const {
        try {
            auto context = connect_redis("127.0.0.1", port_, 200ms, password_);
            const Reply pong = redis_command(context.get(), {"PING"});
            if (pong.type != Reply::Status || pong.str != "PONG") {
                return false;
            }
            const Reply info = redis_command(context.get(), {"INFO", "server"});
            return info_field(info.str, "process_id") == std::to_string(process_->pid());
        } catch (const std::exception&) {
            return false;
        }
    }

    void forget_process() {
        context_.reset();
        if (process_) {
            previous_output_ += process_->output();
            process_.reset();
        }
    }

    std::string password_;
    TempDir dir_;
    int port_ = 0;
    std::optional<Process> process_;
    std::string previous_output_;
    RedisContextPtr context_;
};

RedisSentinelGroup::RedisSentinelGroup() : RedisSentinelGroup(Options{}) {}

RedisSentinelGroup::RedisSentinelGroup(Options options) : options_(std::move(options)) {
    try {
        start();
    } catch (const std::exception& e) {
        // The members already built kill and reap their processes.
        throw std::runtime_error(std::string("RedisSentinelGroup did not come up: ") + e.what() +
                                 "\n" + log());
    }
}

RedisSentinelGroup::~RedisSentinelGroup() = default;

void RedisSentinelGroup::start() {
    std::vector<std::string> common = {"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay",
                                       "0"};
    if (!options_.requirepass.empty()) {
        common.insert(common.end(), {"--masterauth", options_.requirepass});
    }
    for (int i = 0; i < node_count; ++i) {
        RedisServer::Options node_options;
        node_options.requirepass = options_.requirepass;
        node_options.extra_args = common;
        if (i > 0) {
            node_options.extra_args.insert(
                node_options.extra_args.end(),
                {"--replicaof", "127.0.0.1", std::to_string(nodes_[0]->port())});
        }
        nodes_.push_back(std::make_unique<RedisServer>(std::move(node_options)));
    }
    const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
    const auto left = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
    };
    await("replicas in sync", left(), [&] {
        for (int i = 1; i < node_count; ++i) {
            const Reply info = nodes_[i]->command({"INFO", "replication"}, probe_timeout);
            if (info_field(info.str, "master_link_status") != "up") {
                return "node " + std::to_string(i) +
                       " master_link_status:" + info_field(info.str, "master_link_status");
            }
        }
        return std::string();
    });
    const std::string config = sentinel_config(nodes_[0]->port());
    for (int s = 0; s < sentinel_count; ++s) {
        sentinels_.push_back(std::make_unique<Sentinel>(options_.sentinel_password));
        sentinels_.back()->launch_new(config);
    }
    await("sentinels ready", left(), [&] { return not_ready(); });
}

std::string RedisSentinelGroup::sentinel_config(int master_port) const {
    const std::string& name = options_.master_name;
    std::ostringstream config;
    config << "bind 127.0.0.1\n"
           << "protected-mode no\n"
           << "daemonize no\n";
    if (!options_.sentinel_password.empty()) {
        config << "requirepass " << quoted(options_.sentinel_password) << "\n"
               << "sentinel sentinel-pass " << quoted(options_.sentinel_password) << "\n";
    }
    config << "sentinel monitor " << name << " 127.0.0.1 " << master_port << " 2\n"
           << "sentinel down-after-milliseconds " << name << " " << options_.down_after.count()
           << "\n"
           << "sentinel failover-timeout " << name << " " << options_.failover_timeout.count()
           << "\n"
           << "sentinel parallel-syncs " << name << " 2\n";
    if (!options_.requirepass.empty()) {
        config << "sentinel auth-pass " << name << " " << quoted(options_.requirepass) << "\n";
    }
    return config.str();
}

std::string RedisSentinelGroup::not_ready() {
    const std::string& name = options_.master_name;
    for (int i = 1; i < node_count; ++i) {
        const Reply info = nodes_[i]->command({"INFO", "replication"}, probe_timeout);
        if (info_field(info.str, "master_link_status") != "up") {
            return "node " + std::to_string(i) +
                   " master_link_status:" + info_field(info.str, "master_link_status");
        }
    }
    for (int s = 0; s < sentinel_count; ++s) {
        const std::string who = "sentinel " + std::to_string(s) + " ";
        if (named_by(s) != 0) {
            return who + "does not name node 0";
        }
        const Reply replicas = sentinel_command(s, {"SENTINEL", "REPLICAS", name}, probe_timeout);
        int good_replicas = 0;
        for (const Reply& replica : replicas.elements) {
            auto fields = to_map(replica);
            const int index = index_of_port(std::atoi(fields["port"].c_str()));
            if (index > 0 && fields["flags"] == "slave" && fields["master-link-status"] == "ok") {
                ++good_replicas;
            }
        }
        if (good_replicas != 2) {
            return who + "knows " + std::to_string(good_replicas) + " healthy replicas";
        }
        const Reply others = sentinel_command(s, {"SENTINEL", "SENTINELS", name}, probe_timeout);
        int good_sentinels = 0;
        for (const Reply& other : others.elements) {
            if (to_map(other)["flags"] == "sentinel") {
                ++good_sentinels;
            }
        }
        if (good_sentinels != 2) {
            return who + "knows " + std::to_string(good_sentinels) + " other sentinels";
        }
        const Reply quorum = sentinel_command(s, {"SENTINEL", "CKQUORUM", name}, probe_timeout);
        if (quorum.type == Reply::Error) {
            return who + "CKQUORUM: " + quorum.str;
        }
    }
    return {};
}

std::vector<std::string> RedisSentinelGroup::sentinel_addresses() const {
    std::vector<std::string> result;
    for (const auto& sentinel : sentinels_) {
        result.push_back("127.0.0.1:" + std::to_string(sentinel->port()));
    }
    return result;
}

int RedisSentinelGroup::index_of_port(int port) const {
    for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
        if (nodes_[i]->port() == port) {
            return i;
        }
    }
    return -1;
}

int RedisSentinelGroup::named_by(int s) {
    const Reply address = sentinel_command(
        s, {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options_.master_name}, probe_timeout);
    if (address.type != Reply::Array || address.elements.size() != 2) {
        throw std::runtime_error("sentinel " + std::to_string(s) +
                                 " GET-MASTER-ADDR-BY-NAME: " + address.str);
    }
    if (address.elements[0].str != "127.0.0.1") {
        return -1;
    }
    return index_of_port(std::atoi(address.elements[1].str.c_str()));
}

int RedisSentinelGroup::master_index() {
    std::map<int, int> votes;
    int answers = 0;
    std::string failures;
    for (int s = 0; s < sentinel_count; ++s) {
        if (!sentinels_[s]->running()) {
            continue;
        }
        try {
            ++votes[named_by(s)];
            ++answers;
        } catch (const std::exception& e) {
            failures += "\n" + std::string(e.what());
        }
    }
    for (const auto& [index, count] : votes) {
        if (index >= 0 && 2 * count > answers) {
            return index;
        }
    }
    throw std::runtime_error("the sentinels name no master by majority: " + state() + failures);
}

RedisServer& RedisSentinelGroup::node(int i) {
    return *nodes_.at(static_cast<std::size_t>(i));
}

void RedisSentinelGroup::kill_node(int i) {
    node(i).kill();
}

void RedisSentinelGroup::pause_node(int i) {
    node(i).pause();
}

void RedisSentinelGroup::resume_node(int i) {
    node(i).resume();
}

void RedisSentinelGroup::restart_node(int i) {
    node(i).start();
}

int RedisSentinelGroup::wait_for_new_master(int old_index, std::chrono::milliseconds timeout) {
    int found = -1;
    try {
        await("a new master", timeout, [&]() -> std::string {
            int named = -1;
            int running = 0;
            for (int s = 0; s < sentinel_count; ++s) {
                if (!sentinels_[s]->running()) {
                    continue;
                }
                ++running;
                const int index = named_by(s);
                if (index < 0 || index == old_index || (named >= 0 && index != named)) {
                    return "sentinels disagree or name the old master";
                }
                named = index;
                const Reply master = sentinel_command(
                    s, {"SENTINEL", "MASTER", options_.master_name}, probe_timeout);
                const std::string flags = to_map(master)["flags"];
                if (flags.find("failover_in_progress") != std::string::npos) {
                    return "sentinel " + std::to_string(s) + " flags " + flags;
                }
            }
            if (running == 0) {
                return "no sentinel runs";
            }
            if (role_of(node(named)) != "master") {
                return "node " + std::to_string(named) + " is not master yet";
            }
            found = named;
            return {};
        });
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) + "\n" + state());
    }
    return found;
}

int RedisSentinelGroup::failover(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const int old_index = master_index();
    // Always the same sentinel: one that answers INPROG runs a failover
    // already, and another sentinel would start a second one.
    int asked = -1;
    for (int s = 0; s < sentinel_count && asked < 0; ++s) {
        if (sentinels_[s]->running()) {
            asked = s;
        }
    }
    if (asked < 0) {
        throw std::runtime_error("SENTINEL FAILOVER: no sentinel runs");
    }
    await("SENTINEL FAILOVER accepted", timeout, [&]() -> std::string {
        const Reply reply =
            sentinel_command(asked, {"SENTINEL", "FAILOVER", options_.master_name}, probe_timeout);
        if (reply.type == Reply::Status && reply.str == "OK") {
            return {};
        }
        return "sentinel " + std::to_string(asked) + ": " + reply.str;
    });
    return wait_for_new_master(old_index, std::chrono::duration_cast<std::chrono::milliseconds>(
                                              deadline - std::chrono::steady_clock::now()));
}

void RedisSentinelGroup::wait_for_replica(int i, std::chrono::milliseconds timeout) {
    try {
        await("node " + std::to_string(i) + " replicating the master", timeout,
              [&]() -> std::string {
                  const int master = master_index();
                  if (master == i) {
                      return "it is the master";
                  }
                  const Reply info = node(i).command({"INFO", "replication"}, probe_timeout);
                  if (info_field(info.str, "role") != "slave" ||
                      info_field(info.str, "master_port") != std::to_string(node(master).port()) ||
                      info_field(info.str, "master_link_status") != "up") {
                      return "role:" + info_field(info.str, "role") +
                             " master_port:" + info_field(info.str, "master_port") +
                             " master_link_status:" + info_field(info.str, "master_link_status");
                  }
                  return {};
              });
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) + "\n" + state());
    }
}

void RedisSentinelGroup::stop_sentinel(int s) {
    sentinels_.at(static_cast<std::size_t>(s))->stop();
}

void RedisSentinelGroup::start_sentinel(int s) {
    sentinels_.at(static_cast<std::size_t>(s))->start();
    await("sentinel " + std::to_string(s) + " naming a master", 10s,
          [&]() -> std::string { return named_by(s) >= 0 ? "" : "it names an unknown address"; });
}

void RedisSentinelGroup::stop_sentinels() {
    for (int s = 0; s < sentinel_count; ++s) {
        stop_sentinel(s);
    }
}

void RedisSentinelGroup::start_sentinels() {
    for (int s = 0; s < sentinel_count; ++s) {
        start_sentinel(s);
    }
}

int RedisSentinelGroup::sentinel_port(int s) const {
    return sentinels_.at(static_cast<std::size_t>(s))->port();
}

Reply RedisSentinelGroup::sentinel_command(int s, const std::vector<std::string>& args,
                                           std::chrono::milliseconds timeout) {
    return sentinels_.at(static_cast<std::size_t>(s))->command(args, timeout);
}

std::string RedisSentinelGroup::state() {
    std::string result = "state:";
    for (int s = 0; s < static_cast<int>(sentinels_.size()); ++s) {
        result += "\n  sentinel " + std::to_string(s) + " (port " +
                  std::to_string(sentinels_[s]->port()) + "): ";
        if (!sentinels_[s]->running()) {
            result += "not running";
            continue;
        }
        try {
            const Reply master =
                sentinel_command(s, {"SENTINEL", "MASTER", options_.master_name}, probe_timeout);
            auto fields = to_map(master);
            result += "names port " + fields["port"] + ", flags " + fields["flags"] +
                      ", failover-state " + fields["failover-state"];
        } catch (const std::exception& e) {
            result += e.what();
        }
    }
    for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
        result += "\n  node " + std::to_string(i) + " (port " + std::to_string(nodes_[i]->port()) +
                  "): " + role_of(*nodes_[i]);
    }
    return result;
}

std::string RedisSentinelGroup::log() const {
    std::string result;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        result += "=== data node " + std::to_string(i) + " (port " +
                  std::to_string(nodes_[i]->port()) + ") ===\n" + nodes_[i]->log();
    }
    for (std::size_t s = 0; s < sentinels_.size(); ++s) {
        result += "=== sentinel " + std::to_string(s) + " (port " +
                  std::to_string(sentinels_[s]->port()) + ") ===\n" + sentinels_[s]->log();
    }
    return result;
}

}  // namespace bscd::test
