// topology_bench: what bscd's Redis topologies cost, and what a failover
// costs (bench/run.sh topology; docs/performance.md, sections (j) and (k)).
//
//   topology_bench [--rounds 2] [--latency-count 1000] [--seconds 3] [--pace-ms 5]
//                  [--only all|j|k|k1..k5]    (k1 ... k5: one failover scenario)
//
// (j) One redis-server, a Sentinel group (1 master, 2 replicas, 3 sentinels)
//     and a six-node Redis Cluster (3 masters, a replica each), all at once;
//     a bscd for each row: one server, Sentinel with --redis-replicas 0, 1
//     and 2, Cluster with 0 and 1. Against each in turn, `bscd_load latency`
//     and `bscd_load throughput` (pipelined, and a connection per code),
//     the generator of (a) and (b), its subscriber on the master bscd
//     writes to; --rounds times, the rows taking turns.
// (k) Failovers with codes flowing: for each scenario a fresh topology and a
//     bscd --redis-replicas 1 taking one distinct code (CodeStream) every
//     --pace-ms over one connection, while a poller asks each data node that
//     may hold the history, about every millisecond, for ROLE and for the
//     history's new entries. Reported: the time from the fault until another
//     node answers ROLE master, and until the first code written after the
//     fault is in its history; how many codes answered OK were not in a
//     master's history meanwhile; and, at the end, the new master's history
//     against the codes answered OK (nothing lost, nothing twice).
//
// The report goes to stdout, progress to stderr. Exit status 0 when it could
// measure (whatever the figures), 1 when it could not, 2 on a usage error.
//
// It links bscd_test_support (tests/support), not only what bench/ has: a
// real Sentinel group and a real cluster, started, failed over and torn down
// deterministically, are what the topology tests' fixtures already do
// (RedisSentinelGroup, RedisCluster, SentinelTopology, ClusterTopology), as
// are bscd as a child process, the distinct code stream and reading a
// history. A second copy here would drift from the one the tests keep
// working; so this program is built only with the tests.
//
// Every process it starts is a fixture's or a Process' child and is killed
// and reaped by its destructor, on a failure too. On SIGINT, SIGTERM or
// SIGHUP it kills its children at once, gives the main thread 5 s to unwind
// (the fixtures' destructors remove their directories), then exits.

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/cluster_slot.hpp"
#include "options.hpp"
#include "stats.hpp"
#include "support/code_stream.hpp"
#include "support/history_codes.hpp"
#include "support/process.hpp"
#include "support/producer_client.hpp"
#include "support/redis_connection.hpp"
#include "support/redis_server.hpp"
#include "support/serving_programs.hpp"
#include "support/temp_dir.hpp"
#include "support/topologies.hpp"
#include "support/wait.hpp"

namespace {

namespace t = bscd::test;
using bench::Clock;
using namespace std::chrono_literals;

constexpr double unknown = std::numeric_limits<double>::quiet_NaN();

// ---- interruption ----------------------------------------------------------

std::atomic<bool> interrupted{false};

class Interrupted : public std::runtime_error {
public:
    Interrupted() : std::runtime_error("interrupted by a signal") {}
};

void check_interrupted() {
    if (interrupted) {
        throw Interrupted();
    }
}

// Sleeps `duration`, in steps, throwing Interrupted when a signal came.
void pause_for(Clock::duration duration) {
    const auto until = Clock::now() + duration;
    while (Clock::now() < until) {
        check_interrupted();
        std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), 20ms));
    }
    check_interrupted();
}

// SIGKILL to every direct child of this process (/proc/PID/stat's ppid).
void kill_children() {
    const pid_t self = ::getpid();
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() ||
            !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            continue;
        }
        std::ifstream file(entry.path() / "stat");
        const std::string stat((std::istreambuf_iterator<char>(file)),
                               std::istreambuf_iterator<char>());
        const auto end_of_name = stat.rfind(')');
        if (end_of_name == std::string::npos) {
            continue;
        }
        std::istringstream rest(stat.substr(end_of_name + 1));
        std::string state;
        long ppid = 0;
        if (rest >> state >> ppid && ppid == self) {
            ::kill(static_cast<pid_t>(std::stol(name)), SIGKILL);
        }
    }
}

// Blocks SIGINT, SIGTERM and SIGHUP in every thread (call it before any
// starts) and takes them on a thread of their own.
void watch_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        (void)std::signal(sig, SIG_DFL);  // a background job of a script ignores SIGINT
    }
    (void)std::signal(SIGPIPE, SIG_IGN);  // a killed node is an error, not our end
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) {
            return;
        }
        interrupted = true;
        (void)std::fprintf(stderr, "topology_bench: signal %d: killing what it started\n", sig);
        kill_children();
        std::this_thread::sleep_for(5s);  // the main thread unwinds meanwhile
        kill_children();
        ::_exit(128 + sig);
    }).detach();
}

// ---- small helpers ---------------------------------------------------------

void progress(const std::string& text) {
    (void)std::fprintf(stderr, "== %s\n", text.c_str());
}

double ms_between(Clock::time_point from, Clock::time_point to) {
    return bench::seconds_between(from, to) * 1000;
}

// "?" for a figure that could not be measured.
std::string show(double value, int digits) {
    return std::isnan(value) ? "?" : bench::fixed(value, digits);
}

// The last lines of a log, each cut at 300 characters: where a failure shows.
std::string tail(const std::string& log) {
    constexpr std::size_t lines = 40;
    constexpr std::size_t width = 300;
    std::vector<std::string> kept;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
        kept.push_back(line.size() > width ? line.substr(0, width) + " [...]" : line);
        if (kept.size() > lines) {
            kept.erase(kept.begin());
        }
    }
    std::string text;
    for (const auto& line : kept) {
        text += line + "\n";
    }
    return text;
}

// The value of KEY in a bscd_load line of key=value tokens; empty when absent.
std::string field(const std::string& line, const std::string& key) {
    std::istringstream tokens(line);
    for (std::string token; tokens >> token;) {
        if (token.starts_with(key + "=")) {
            return token.substr(key.size() + 1);
        }
    }
    return {};
}

double number(const std::string& line, const std::string& key) {
    const std::string value = field(line, key);
    char* end = nullptr;
    const double parsed = std::strtod(value.c_str(), &end);
    return value.empty() || *end != '\0' ? unknown : parsed;
}

// An integer field, 0 when absent (a measurement that failed).
std::size_t count(const std::string& line, const std::string& key) {
    const double value = number(line, key);
    return std::isnan(value) || value < 0 ? 0 : static_cast<std::size_t>(value);
}

double mean(const std::vector<double>& values) {
    double sum = 0;
    for (double value : values) {
        sum += value;
    }
    return values.empty() ? unknown : sum / static_cast<double>(values.size());
}

// Runs bscd_load with `args` and returns its line of figures (the one that
// starts with `scenario`). A line that reports lost codes is still returned;
// no line at all throws.
std::string bscd_load(const std::string& scenario, const std::vector<std::string>& args) {
    std::vector<std::string> argv{t::bin("bscd_load"), scenario};
    argv.insert(argv.end(), args.begin(), args.end());
    const t::RunResult result = t::run(argv, {}, 180s);
    check_interrupted();
    std::istringstream lines(result.output);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with(scenario + " ")) {
            return line;
        }
    }
    throw std::runtime_error("bscd_load " + scenario + " gave no figures (status " +
                             std::to_string(result.status) + "):\n" + tail(result.output));
}

// ---- bscd ------------------------------------------------------------------

// A bscd in the foreground (its output to a file, through Process), in its
// own directory: socket, pid file.
class Bscd {
public:
    Bscd(const std::string& project, const std::vector<std::string>& redis,
         const std::vector<std::string>& extra)
        : project_(project) {
        std::vector<std::string> args{t::bin("bscd"), "--project", project, "--runtime-dir",
                                      dir_.path()};
        args.insert(args.end(), redis.begin(), redis.end());
        args.insert(args.end(), extra.begin(), extra.end());
        process_ = std::make_unique<t::Process>(args);
        const bool serving = t::wait_until(
            [&] {
                return t::holds_own_pid(*process_, dir_.file("bscd-" + project + ".pid")) ||
                       !process_->running() || interrupted;
            },
            15s);
        check_interrupted();
        if (!serving || !process_->running()) {
            throw std::runtime_error("bscd --project " + project + " did not start:\n" +
                                     tail(process_->output()));
        }
    }

    const std::string& project() const { return project_; }
    std::string socket() const { return dir_.file("bscd-" + project_ + ".sock"); }
    std::string channel() const { return "bscd-" + project_; }
    pid_t pid() const { return process_->pid(); }
    std::string output() const { return process_->output(); }

    // SIGTERM: bscd hands Redis what it holds and exits, 0 when everything
    // reached Redis. Its exit status (-1: still running after 30 s, killed).
    int stop() {
        process_->signal(SIGTERM);
        const auto status = process_->wait(30s);
        if (!status) {
            process_->kill();
            return -1;
        }
        return *status;
    }

    // What bscd said at its stop: "Every accepted code reached Redis (N in all)".
    std::optional<std::size_t> reached() const {
        const std::string log = output();
        const std::string marker = "Every accepted code reached Redis (";
        const auto at = log.rfind(marker);
        if (at == std::string::npos) {
            return std::nullopt;
        }
        return std::stoul(log.substr(at + marker.size()));
    }

    // Codes bscd found missing on a new master and wrote again from the
    // confirmed tail ("lacked N codes").
    std::size_t rewritten() const {
        const std::string log = output();
        std::size_t total = 0;
        for (auto at = log.find(" lacked "); at != std::string::npos;
             at = log.find(" lacked ", at + 1)) {
            total += std::stoul(log.substr(at + 8));
        }
        return total;
    }

private:
    std::string project_;
    t::TempDir dir_;
    std::unique_ptr<t::Process> process_;
};

// ---- (j): codes/s and latency by topology and R ------------------------------

struct Row {
    std::string topology;  // "one server", "Sentinel", "Cluster"
    int replicas = 0;      // --redis-replicas
    std::unique_ptr<Bscd> bscd;
    t::RedisServer* master = nullptr;  // the node bscd writes to
    std::vector<t::RedisServer*> replica_nodes;
    // One per round: bscd_load's lines.
    std::vector<std::string> latency, pipelined, per_connection;
    std::size_t accepted = 0;  // answered OK over every case
    int exit_status = -1;
    std::optional<std::size_t> reached;

    std::string label() const { return topology + " R=" + std::to_string(replicas); }
};

// The pubsub output buffer unlimited on every data node, as bench/run.sh
// starts its redis-server: the measuring subscriber is never disconnected.
void unlimited_pubsub(t::RedisServer& node) {
    node.command({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 0 0"});
}

struct TopologyOptions {
    int rounds = 2;
    long latency_count = 1000;
    double seconds = 3;
    std::chrono::milliseconds pace{5};
    std::string only = "all";  // all, j, k, or one scenario of k: k1 ... k5
};

void measure_row(Row& row, const TopologyOptions& options) {
    std::vector<std::string> target{"--socket",     row.bscd->socket(),
                                    "--redis-host", "127.0.0.1",
                                    "--redis-port", std::to_string(row.master->port()),
                                    "--channel",    row.bscd->channel(),
                                    "--watch",      "bscd=" + std::to_string(row.bscd->pid()),
                                    "--watch",      "master=" + std::to_string(row.master->pid())};
    for (std::size_t i = 0; i < row.replica_nodes.size(); ++i) {
        target.insert(target.end(), {"--watch", "replica" + std::to_string(i + 1) + "=" +
                                                    std::to_string(row.replica_nodes[i]->pid())});
    }
    const auto with = [&](std::vector<std::string> more) {
        more.insert(more.begin(), target.begin(), target.end());
        return more;
    };
    progress("(j) " + row.label() + ": latency, " + std::to_string(options.latency_count) +
             " codes one at a time");
    row.latency.push_back(bscd_load(
        "latency", with({"--count", std::to_string(options.latency_count), "--warmup", "100"})));
    const auto& lat = row.latency.back();
    row.accepted += count(lat, "n") + count(lat, "warmup") + count(lat, "lost");
    const std::string seconds = bench::fixed(options.seconds, 1);
    progress("(j) " + row.label() + ": pipelined, 8 connections, " + seconds + " s");
    row.pipelined.push_back(
        bscd_load("throughput", with({"--mode", "pipeline", "--producers", "8", "--batch", "64",
                                      "--window", "10000", "--seconds", seconds})));
    row.accepted += count(row.pipelined.back(), "accepted");
    progress("(j) " + row.label() + ": a connection per code + OK, 8 producers, " + seconds + " s");
    row.per_connection.push_back(
        bscd_load("throughput", with({"--mode", "connect-ack", "--producers", "8", "--window",
                                      "10000", "--seconds", seconds})));
    row.accepted += count(row.per_connection.back(), "accepted");
}

// CPU us per code of the replicas in a bscd_load line, summed.
double replicas_cpu(const std::string& line, std::size_t replicas) {
    double sum = 0;
    for (std::size_t i = 1; i <= replicas; ++i) {
        sum += number(line, "replica" + std::to_string(i) + "_cpu_us_per_code");
    }
    return replicas == 0 ? unknown : sum;
}

std::vector<double> each(const std::vector<std::string>& lines, const std::string& key) {
    std::vector<double> values;
    values.reserve(lines.size());
    for (const auto& line : lines) {
        values.push_back(number(line, key));
    }
    return values;
}

std::string ratio(double value, double base) {
    return std::isnan(value) || std::isnan(base) || base == 0 ? "?" : bench::fixed(value / base, 2);
}

std::string report_rows(const std::vector<Row>& rows, const TopologyOptions& options) {
    std::ostringstream out;
    char line[512];
    out << "(j) Codes/s and latency by topology and --redis-replicas R: one redis-server, a "
           "Sentinel group (1 master,\n"
           "    2 replicas, 3 sentinels) and a Redis Cluster (3 masters, a replica each), all "
           "running at once, and\n"
           "    a bscd for each row (its output to a file). Against each in turn, bscd_load as in "
           "(a) and (b), its\n"
           "    subscriber on the master bscd writes to: latency, one code at a time, "
        << options.latency_count
        << " codes after 100 warm-up;\n"
           "    pipelined: one thread, 8 connections, 64 per write; a connection per code + OK "
           "(as bsc): 8 threads;\n"
           "    "
        << bench::fixed(options.seconds, 1) << " s of load each, at most 10000 codes in flight. "
        << options.rounds << (options.rounds == 1 ? " round" : " rounds")
        << ", the rows taking turns. CPU per code: in the\n"
           "    pipelined case, of bscd, the master and its replicas (summed)\n"
           "                               latency (us)                 codes/s             CPU "
           "us/code, pipelined\n"
           "    topology    R  round   subscriber p50      p99  OK p50   pipelined  conn.+OK    "
           "bscd  master  replicas\n";
    for (const Row& row : rows) {
        for (std::size_t r = 0; r < row.latency.size(); ++r) {
            const auto& lat = row.latency[r];
            const auto& pipe = row.pipelined[r];
            const auto& conn = row.per_connection[r];
            const bool lost = number(lat, "lost") != 0 || number(pipe, "lost") != 0 ||
                              number(conn, "lost") != 0 || number(pipe, "errors") != 0 ||
                              number(conn, "errors") != 0;
            (void)std::snprintf(
                line, sizeof line, "    %-10s %2d %6zu %16s %8s %7s %11s %9s %7s %7s %9s%s\n",
                r == 0 ? row.topology.c_str() : "", row.replicas, r + 1,
                show(number(lat, "p50_us"), 1).c_str(), show(number(lat, "p99_us"), 1).c_str(),
                show(number(lat, "ack_p50_us"), 1).c_str(),
                show(number(pipe, "delivered_per_s"), 0).c_str(),
                show(number(conn, "delivered_per_s"), 0).c_str(),
                show(number(pipe, "bscd_cpu_us_per_code"), 2).c_str(),
                show(number(pipe, "master_cpu_us_per_code"), 2).c_str(),
                show(replicas_cpu(pipe, row.replica_nodes.size()), 2).c_str(),
                lost ? "  ! lost or errors" : "");
            out << line;
        }
    }
    out << "    Ratios of the means over the rounds: each R against R=0 on the same topology, and "
           "R=0 against one server\n"
           "                                 latency p50  latency p99   pipelined  conn.+OK\n";
    const auto means = [](const Row& row) {
        return std::array<double, 4>{mean(each(row.latency, "p50_us")),
                                     mean(each(row.latency, "p99_us")),
                                     mean(each(row.pipelined, "delivered_per_s")),
                                     mean(each(row.per_connection, "delivered_per_s"))};
    };
    const Row* one_server = nullptr;
    for (const Row& row : rows) {
        if (row.topology == "one server") {
            one_server = &row;
        }
    }
    for (const Row& row : rows) {
        const Row* base = nullptr;
        std::string label;
        if (row.replicas == 0 && one_server != nullptr && &row != one_server) {
            base = one_server;
            label = row.topology + " R=0 / one server";
        } else if (row.replicas > 0) {
            for (const Row& other : rows) {
                if (other.topology == row.topology && other.replicas == 0) {
                    base = &other;
                }
            }
            label = row.label() + " / R=0";
        }
        if (base == nullptr) {
            continue;
        }
        const auto value = means(row);
        const auto reference = means(*base);
        (void)std::snprintf(
            line, sizeof line, "    %-28s %12s %12s %11s %9s\n", label.c_str(),
            ratio(value[0], reference[0]).c_str(), ratio(value[1], reference[1]).c_str(),
            ratio(value[2], reference[2]).c_str(), ratio(value[3], reference[3]).c_str());
        out << line;
    }
    bool all_ok = true;
    out << "    SIGTERM at the end; each bscd must say every accepted code reached Redis, as many "
           "as bscd_load was\n"
           "    answered OK:\n";
    for (const Row& row : rows) {
        const bool ok = row.exit_status == 0 && row.reached && *row.reached == row.accepted;
        all_ok = all_ok && ok;
        (void)std::snprintf(line, sizeof line,
                            "      %-14s exit status %d; %s reached Redis, answered OK %zu (%s)\n",
                            row.label().c_str(), row.exit_status,
                            row.reached ? std::to_string(*row.reached).c_str() : "?", row.accepted,
                            ok ? "all accounted for" : "MISMATCH");
        out << line;
    }
    out << "    every accepted code accounted for: " << (all_ok ? "yes" : "NO") << "\n";
    return out.str();
}

std::string measure_topologies(const TopologyOptions& options) {
    progress("(j) starting one redis-server, a Sentinel group and a Redis Cluster");
    t::RedisServer one;
    t::SentinelTopology sentinel;
    t::ClusterTopology cluster;
    check_interrupted();
    unlimited_pubsub(one);
    for (int i = 0; i < t::RedisSentinelGroup::node_count; ++i) {
        unlimited_pubsub(sentinel.group.node(i));
    }
    for (int i = 0; i < t::RedisCluster::node_count; ++i) {
        unlimited_pubsub(cluster.cluster.node(i));
    }

    std::vector<Row> rows;
    const auto add = [&](const std::string& topology, int replicas, const std::string& project,
                         const std::vector<std::string>& redis) {
        Row row;
        row.topology = topology;
        row.replicas = replicas;
        std::vector<std::string> extra;
        if (replicas > 0) {
            extra = {"--redis-replicas", std::to_string(replicas)};
        }
        row.bscd = std::make_unique<Bscd>(project, redis, extra);
        rows.push_back(std::move(row));
        return &rows.back();
    };
    rows.reserve(6);
    Row* row =
        add("one server", 0, "bench-one", {"-H", "127.0.0.1", "-P", std::to_string(one.port())});
    row->master = &one;
    const int sentinel_master = sentinel.group.master_index();
    for (int replicas = 0; replicas <= 2; ++replicas) {
        row = add("Sentinel", replicas, "bench-sentinel-r" + std::to_string(replicas),
                  sentinel.options());
        row->master = &sentinel.group.node(sentinel_master);
        for (int i = 0; i < t::RedisSentinelGroup::node_count; ++i) {
            if (i != sentinel_master) {
                row->replica_nodes.push_back(&sentinel.group.node(i));
            }
        }
    }
    for (int replicas = 0; replicas <= 1; ++replicas) {
        const std::string project = "bench-cluster-r" + std::to_string(replicas);
        row = add("Cluster", replicas, project, cluster.options());
        const int master =
            cluster.cluster.master_of_slot(bscd::key_hash_slot("bscd-" + project + ":events"));
        row->master = &cluster.cluster.node(master);
        row->replica_nodes.push_back(&cluster.cluster.node(cluster.cluster.replica_of(master)));
    }

    for (int r = 1; r <= options.rounds; ++r) {
        progress("(j) round " + std::to_string(r) + " of " + std::to_string(options.rounds));
        for (Row& each_row : rows) {
            measure_row(each_row, options);
        }
    }
    for (Row& each_row : rows) {
        each_row.exit_status = each_row.bscd->stop();
        each_row.reached = each_row.bscd->reached();
    }
    return report_rows(rows, options);
}

// ---- (k): failovers --------------------------------------------------------

// Asks, about every millisecond, each data node that may hold the history
// for ROLE and, when it says master, for the history's entries after the
// last one it gave; remembers when each code was first seen in a master's
// history and on which node. Its own connections (200 ms timeouts), on its
// own thread.
class HistoryPoller {
public:
    struct Node {
        std::string host;
        int port = 0;
    };
    struct Seen {
        Clock::time_point at;
        int node = -1;
    };

    HistoryPoller(std::vector<Node> nodes, std::string key, const std::vector<std::string>& codes)
        : nodes_(std::move(nodes)),
          key_(std::move(key)),
          states_(nodes_.size()),
          seen_(codes.size()) {
        for (std::size_t i = 0; i < codes.size(); ++i) {
            index_.emplace(codes[i], i);
        }
    }
    ~HistoryPoller() { stop(); }
    HistoryPoller(const HistoryPoller&) = delete;
    HistoryPoller& operator=(const HistoryPoller&) = delete;

    void start() {
        started_ = Clock::now();
        running_ = true;
        thread_ = std::thread([this] { run(); });
    }
    void stop() {
        running_ = false;
        if (thread_.joinable()) {
            thread_.join();
            stopped_ = Clock::now();
        }
    }

    // Not asked any more: a killed or paused node would only time out.
    void exclude(int node) {
        const std::lock_guard lock(mutex_);
        states_.at(static_cast<std::size_t>(node)).excluded = true;
    }
    // When `node` first answered ROLE master.
    std::optional<Clock::time_point> master_since(int node) const {
        const std::lock_guard lock(mutex_);
        return states_.at(static_cast<std::size_t>(node)).master_since;
    }
    // Whether a code at index `first` or later was first seen on `node`.
    bool seen_on(int node, std::size_t first) const {
        const std::lock_guard lock(mutex_);
        for (std::size_t i = first; i < seen_.size(); ++i) {
            if (seen_[i] && seen_[i]->node == node) {
                return true;
            }
        }
        return false;
    }
    std::vector<std::optional<Seen>> seen() const {
        const std::lock_guard lock(mutex_);
        return seen_;
    }
    // Mean time of one round over every node asked, ms (after stop()).
    double round_ms() const {
        return rounds_ == 0 ? unknown
                            : ms_between(started_, stopped_) / static_cast<double>(rounds_);
    }

private:
    struct State {
        t::RedisContextPtr context;
        Clock::time_point retry_at{};
        std::string last_id;  // of the last entry read from this node
        std::optional<Clock::time_point> master_since;
        bool excluded = false;
    };

    void run() {
        while (running_) {
            for (std::size_t i = 0; i < nodes_.size(); ++i) {
                poll(i);
            }
            ++rounds_;
            std::this_thread::sleep_for(1ms);
        }
    }

    void poll(std::size_t i) {
        State& state = states_[i];
        {
            const std::lock_guard lock(mutex_);
            if (state.excluded) {
                state.context.reset();
                return;
            }
        }
        if (!state.context) {
            if (Clock::now() < state.retry_at) {
                return;
            }
            try {
                state.context = t::connect_redis(nodes_[i].host, nodes_[i].port, 200ms);
            } catch (const std::exception&) {
                state.retry_at = Clock::now() + 20ms;
                return;
            }
        }
        try {
            const t::Reply role = t::redis_command(state.context.get(), {"ROLE"});
            if (role.type != t::Reply::Array || role.elements.empty() ||
                role.elements[0].str != "master") {
                return;  // a replica: its copy is not the history bscd writes to
            }
            const auto master_at = Clock::now();
            {
                const std::lock_guard lock(mutex_);
                if (!state.master_since) {
                    state.master_since = master_at;
                }
            }
            const t::Reply entries =
                t::redis_command(state.context.get(),
                                 {"XRANGE", key_, state.last_id.empty() ? "-" : "(" + state.last_id,
                                  "+", "COUNT", "100000"});
            const auto at = Clock::now();
            if (entries.type != t::Reply::Array) {
                return;  // MOVED (not the slot's owner), LOADING...
            }
            const std::lock_guard lock(mutex_);
            for (const t::Reply& entry : entries.elements) {
                state.last_id = entry.elements.at(0).str;
                const auto& fields = entry.elements.at(1).elements;
                for (std::size_t f = 0; f + 1 < fields.size(); f += 2) {
                    const auto code = index_.find(fields[f + 1].str);
                    if (fields[f].str == "code" && code != index_.end() && !seen_[code->second]) {
                        seen_[code->second] = Seen{at, static_cast<int>(i)};
                    }
                }
            }
        } catch (const std::exception&) {
            state.context.reset();  // gone or hung: connect again, later
            state.retry_at = Clock::now() + 20ms;
        }
    }

    std::vector<Node> nodes_;
    std::string key_;
    std::unordered_map<std::string, std::size_t> index_;  // code -> its index in the stream
    mutable std::mutex mutex_;
    std::vector<State> states_;
    std::vector<std::optional<Seen>> seen_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::atomic<std::size_t> rounds_{0};
    Clock::time_point started_{};
    Clock::time_point stopped_{};
};

// One code every `pace` over one connection, on its own thread: when each
// was written, when its reply came, and whether it was OK.
class PacedProducer {
public:
    PacedProducer(t::CodeStream& stream, const std::string& socket, std::chrono::milliseconds pace)
        : stream_(stream), client_(socket), pace_(pace) {
        written_.reserve(stream.size());
        answered_.reserve(stream.size());
        ok_.reserve(stream.size());
    }
    ~PacedProducer() { stop(); }
    PacedProducer(const PacedProducer&) = delete;
    PacedProducer& operator=(const PacedProducer&) = delete;

    void start() {
        running_ = true;
        thread_ = std::thread([this] { run(); });
    }
    void stop() {
        running_ = false;
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    std::size_t sent() const { return sent_; }
    // After stop():
    const std::vector<Clock::time_point>& written() const { return written_; }
    const std::vector<Clock::time_point>& answered() const { return answered_; }
    const std::vector<bool>& ok() const { return ok_; }
    std::size_t refused() const { return refused_; }
    bool ran_out() const { return stream_.sent() == stream_.size(); }

private:
    void run() {
        auto next = Clock::now();
        while (running_ && stream_.sent() < stream_.size()) {
            written_.push_back(Clock::now());
            const auto refused = stream_.send(client_, 1);
            answered_.push_back(Clock::now());
            ok_.push_back(refused.empty());
            refused_ += refused.size();
            sent_ = stream_.sent();
            next += pace_;
            const auto now = Clock::now();
            if (next < now) {
                next = now;  // late (a slow reply): no burst to catch up
            }
            std::this_thread::sleep_until(next);
        }
    }

    t::CodeStream& stream_;
    t::ProducerClient client_;
    std::chrono::milliseconds pace_;
    std::vector<Clock::time_point> written_;
    std::vector<Clock::time_point> answered_;
    std::vector<bool> ok_;
    std::size_t refused_ = 0;
    std::atomic<std::size_t> sent_{0};
    std::atomic<bool> running_{false};
    std::thread thread_;
};

struct FailoverResult {
    std::string name;
    double promoted_ms = unknown;    // fault -> another node answers ROLE master
    double recovered_ms = unknown;   // fault -> first code written after it in its history
    double held = unknown;           // most codes answered OK and not in a master's history
    double caught_up_ms = unknown;   // fault -> that number back to at most 1, after its peak
    double longest_ms = unknown;     // the longest write -> history of a code
    double before_p50_ms = unknown;  // write -> history before the fault
    double before_p99_ms = unknown;
    double round_ms = unknown;  // the poller's period
    std::size_t sent = 0;
    std::size_t accepted = 0;
    std::size_t refused = 0;
    std::size_t history = 0;
    bool history_ok = false;  // the new master's history == the codes answered OK, in order
    std::size_t rewritten = 0;
    int exit_status = -1;
    std::optional<std::size_t> reached;
    bool ran_out = false;
};

// What a scenario needs from its topology. Nodes are the poller's indexes.
struct FailoverPlan {
    std::string name;
    std::vector<std::string> redis;  // bscd's topology options
    std::vector<HistoryPoller::Node> nodes;
    // Makes the fault happen and returns once the topology names a new
    // master (its index); excludes from the poller a node it kills or pauses.
    std::function<int(HistoryPoller&)> fault;
    std::function<t::RedisServer&(int)> node;
};

FailoverResult run_failover(const FailoverPlan& plan, const TopologyOptions& options) {
    FailoverResult result;
    result.name = plan.name;
    t::TempDir dir;
    t::CodeStream stream(dir.path(), 12000);  // a minute at 5 ms
    const std::string project = "bench-failover";
    Bscd bscd(
        project, plan.redis,
        {"--codes", stream.catalog_file(), "--redis-replicas", "1", "--history-length", "100000"});
    HistoryPoller poller(plan.nodes, "bscd-" + project + ":events", stream.codes());
    poller.start();
    PacedProducer producer(stream, bscd.socket(), options.pace);
    producer.start();
    pause_for(1s);

    progress("(k) " + plan.name + ": the fault");
    const auto fault_at = Clock::now();
    const std::size_t first_after = producer.sent();
    const int new_master = plan.fault(poller);
    check_interrupted();
    progress("(k) " + plan.name + ": the fault's steps done after " +
             bench::fixed(ms_between(fault_at, Clock::now()), 0) + " ms, new master named");
    const bool recovered =
        t::wait_until([&] { return poller.seen_on(new_master, first_after) || interrupted; }, 30s);
    check_interrupted();
    if (!recovered) {
        progress("(k) " + plan.name + ": no code reached the new master within 30 s");
    }
    pause_for(1s);
    producer.stop();

    // The new master's history, once it holds every code answered OK.
    std::vector<std::string> history;
    t::wait_until(
        [&] {
            try {
                history = t::history_codes(plan.node(new_master), bscd.channel());
            } catch (const std::exception&) {
                return interrupted.load();
            }
            return history.size() >= stream.accepted().size() || interrupted;
        },
        30s);
    check_interrupted();
    pause_for(20ms);  // a last round of the poller
    poller.stop();
    result.exit_status = bscd.stop();
    result.reached = bscd.reached();
    result.rewritten = bscd.rewritten();

    result.sent = stream.sent();
    result.accepted = stream.accepted().size();
    result.refused = producer.refused();
    result.ran_out = producer.ran_out();
    result.history = history.size();
    result.history_ok = history == stream.accepted() && result.accepted == result.sent;
    result.round_ms = poller.round_ms();

    const auto seen = poller.seen();
    const auto& written = producer.written();
    const auto& answered = producer.answered();
    const auto& ok = producer.ok();
    if (const auto promoted = poller.master_since(new_master)) {
        result.promoted_ms = ms_between(fault_at, *promoted);
    }
    // +1 when a code is answered OK, -1 when it is first seen in a history.
    std::vector<std::pair<Clock::time_point, int>> events;
    std::vector<double> before_ms;
    double longest = 0;
    for (std::size_t i = 0; i < written.size(); ++i) {
        if (!ok[i]) {
            continue;
        }
        events.emplace_back(answered[i], +1);
        if (!seen[i]) {
            continue;
        }
        events.emplace_back(seen[i]->at, -1);
        const double wait_ms = ms_between(written[i], seen[i]->at);
        longest = std::max(longest, wait_ms);
        if (seen[i]->at < fault_at) {
            before_ms.push_back(wait_ms);
        }
        if (written[i] >= fault_at && seen[i]->node == new_master) {
            const double recovered_ms = ms_between(fault_at, seen[i]->at);
            if (std::isnan(result.recovered_ms) || recovered_ms < result.recovered_ms) {
                result.recovered_ms = recovered_ms;
            }
        }
    }
    result.longest_ms = longest;
    std::sort(before_ms.begin(), before_ms.end());
    result.before_p50_ms = before_ms.empty() ? unknown : bench::quantile(before_ms, 0.5);
    result.before_p99_ms = before_ms.empty() ? unknown : bench::quantile(before_ms, 0.99);
    std::sort(events.begin(), events.end());
    long backlog = 0;
    long most = 0;
    for (const auto& [at, step] : events) {
        backlog += step;
        if (at < fault_at) {
            continue;
        }
        if (backlog > most) {
            most = backlog;
            result.caught_up_ms = unknown;
        } else if (backlog <= 1 && std::isnan(result.caught_up_ms)) {
            result.caught_up_ms = ms_between(fault_at, at);
        }
    }
    result.held = static_cast<double>(most);
    if (!result.history_ok) {
        progress("(k) " + plan.name + ": the history does not match; bscd's log:\n" +
                 tail(bscd.output()));
    }
    return result;
}

FailoverPlan sentinel_plan(
    t::SentinelTopology& topology, const std::string& name,
    const std::function<int(t::RedisSentinelGroup&, int, HistoryPoller&)>& fault) {
    t::RedisSentinelGroup& group = topology.group;
    FailoverPlan plan;
    plan.name = name;
    plan.redis = topology.options();
    for (int i = 0; i < t::RedisSentinelGroup::node_count; ++i) {
        plan.nodes.push_back({group.node(i).host(), group.node(i).port()});
    }
    plan.fault = [&group, old = group.master_index(), fault](HistoryPoller& poller) {
        return fault(group, old, poller);
    };
    plan.node = [&group](int i) -> t::RedisServer& { return group.node(i); };
    return plan;
}

FailoverPlan cluster_plan(
    t::ClusterTopology& topology, const std::string& name,
    const std::function<void(t::RedisCluster&, int, int, HistoryPoller&)>& fault) {
    t::RedisCluster& cluster = topology.cluster;
    FailoverPlan plan;
    plan.name = name;
    plan.redis = topology.options();
    const int slot = bscd::key_hash_slot("bscd-bench-failover:events");
    const int master = cluster.master_of_slot(slot);
    const int replica = cluster.replica_of(master);
    // Only these two can hold the slot: no migration here.
    plan.nodes = {{cluster.node(master).host(), cluster.node(master).port()},
                  {cluster.node(replica).host(), cluster.node(replica).port()}};
    plan.fault = [&cluster, master, replica, fault](HistoryPoller& poller) {
        fault(cluster, master, replica, poller);
        return 1;  // the replica, in the poller's indexes
    };
    plan.node = [&cluster, master, replica](int i) -> t::RedisServer& {
        return cluster.node(i == 0 ? master : replica);
    };
    return plan;
}

std::vector<FailoverResult> measure_failovers(const TopologyOptions& options) {
    std::vector<FailoverResult> results;
    int scenario = 0;
    const auto wanted = [&] {
        ++scenario;
        return options.only == "all" || options.only == "k" ||
               options.only == "k" + std::to_string(scenario);
    };
    const auto sentinel =
        [&](const std::string& name,
            const std::function<int(t::RedisSentinelGroup&, int, HistoryPoller&)>& fault) {
            if (!wanted()) {
                return;
            }
            progress("(k) " + name + ": starting a Sentinel group");
            t::SentinelTopology topology;
            results.push_back(run_failover(sentinel_plan(topology, name, fault), options));
        };
    const auto cluster =
        [&](const std::string& name,
            const std::function<void(t::RedisCluster&, int, int, HistoryPoller&)>& fault) {
            if (!wanted()) {
                return;
            }
            progress("(k) " + name + ": starting a Redis Cluster");
            t::ClusterTopology topology;
            results.push_back(run_failover(cluster_plan(topology, name, fault), options));
        };
    sentinel("Sentinel: master SIGKILLed",
             [](t::RedisSentinelGroup& group, int old, HistoryPoller& poller) {
                 poller.exclude(old);
                 group.kill_node(old);
                 return group.wait_for_new_master(old);
             });
    sentinel("Sentinel: master paused (SIGSTOP)",
             [](t::RedisSentinelGroup& group, int old, HistoryPoller& poller) {
                 poller.exclude(old);
                 group.pause_node(old);
                 const int promoted = group.wait_for_new_master(old);
                 group.resume_node(old);  // it runs what it had queued, then is made a replica
                 return promoted;
             });
    sentinel("Sentinel: SENTINEL FAILOVER",
             [](t::RedisSentinelGroup& group, int /*old*/, HistoryPoller& /*poller*/) {
                 return group.failover();
             });
    cluster("Cluster: slot master SIGKILLed",
            [](t::RedisCluster& redis, int master, int /*replica*/, HistoryPoller& poller) {
                poller.exclude(0);
                redis.kill_node(master);
                redis.wait_for_slot_master_change(bscd::key_hash_slot("bscd-bench-failover:events"),
                                                  master);
                // The new master has no replica until the old one is back (as
                // its replica): WAIT 1 holds every code until then. Started
                // again at once, as a supervisor would.
                redis.restart_node(master);
            });
    cluster("Cluster: CLUSTER FAILOVER",
            [](t::RedisCluster& redis, int /*master*/, int replica, HistoryPoller& /*poller*/) {
                redis.failover(replica);
            });
    return results;
}

std::string report_failovers(const std::vector<FailoverResult>& results,
                             const TopologyOptions& options) {
    std::ostringstream out;
    char line[512];
    double period = 0;
    for (const auto& result : results) {
        period = std::max(period, std::isnan(result.round_ms) ? 0 : result.round_ms);
    }
    out << "(k) Failovers with codes flowing: for each scenario a fresh topology (Sentinel: 1 "
           "master, 2 replicas,\n"
           "    3 sentinels, down-after 1 s; Cluster: 6 nodes, node timeout 1 s) and a bscd "
           "--redis-replicas 1 taking\n"
           "    one distinct code every "
        << options.pace.count()
        << " ms over one connection; a poller asks each data node that may hold the\n"
           "    history for ROLE and the history's new entries (a round every "
        << bench::fixed(period, 1)
        << " ms on average, at most). 1 s of\n"
           "    codes, the fault at t=0, until a code written after it is in the new master's "
           "history, 1 s more.\n"
           "    ms from the fault until: another node answered ROLE master (new master); the "
           "first code written\n"
           "    after the fault was in its history (first code; bscd's share: the difference); "
           "held: the most\n"
           "    codes answered OK and in no master's history at once; whole: that number back "
           "at 1 or less.\n"
           "    longest: a code's longest write -> history; before: write -> history before the "
           "fault (poller's\n"
           "    period included). The cluster's killed master is started again as soon as its "
           "replica took over\n"
           "    (until it is back as the replica, the new master has none, and WAIT 1 confirms "
           "nothing).\n"
           "                                            new   first  bscd's   held   whole  "
           "longest  before (ms)\n"
           "    scenario                             master    code   share  codes    (ms)     "
           "(ms)    p50    p99\n";
    for (const auto& result : results) {
        (void)std::snprintf(
            line, sizeof line, "    %-36s %7s %7s %7s %6s %7s %8s %6s %6s\n", result.name.c_str(),
            show(result.promoted_ms, 0).c_str(), show(result.recovered_ms, 0).c_str(),
            show(result.recovered_ms - result.promoted_ms, 0).c_str(), show(result.held, 0).c_str(),
            show(result.caught_up_ms, 0).c_str(), show(result.longest_ms, 0).c_str(),
            show(result.before_p50_ms, 1).c_str(), show(result.before_p99_ms, 1).c_str());
        out << line;
    }
    out << "    Nothing lost, nothing twice: the new master's history against the codes answered "
           "OK, in order;\n"
           "    codes bscd found missing there and wrote again from its confirmed tail; then "
           "SIGTERM: bscd's\n"
           "    exit status, and the codes it says reached Redis\n";
    bool all_ok = true;
    for (const auto& result : results) {
        const bool ok = result.history_ok && result.exit_status == 0 && result.reached &&
                        *result.reached == result.accepted && !result.ran_out;
        all_ok = all_ok && ok;
        (void)std::snprintf(
            line, sizeof line,
            "      %-36s sent %zu, OK %zu, history %zu: %s; from the tail %zu; exit %d, %s\n",
            result.name.c_str(), result.sent, result.accepted, result.history,
            result.history_ok ? "equal" : "NOT EQUAL", result.rewritten, result.exit_status,
            result.reached ? std::to_string(*result.reached).c_str() : "?");
        out << line;
    }
    out << "    nothing lost or repeated in any scenario: " << (all_ok ? "yes" : "NO") << "\n";
    return out.str();
}

}  // namespace

int main(int argc, char** argv) {
    watch_signals();
    TopologyOptions options;
    try {
        const bench::Options args(argc, argv);
        options.rounds = static_cast<int>(args.integer("rounds", options.rounds, 1, 10));
        options.latency_count = args.integer("latency-count", options.latency_count, 10, 100'000);
        options.seconds = args.real("seconds", options.seconds, 0.5, 60);
        options.pace = std::chrono::milliseconds(args.integer("pace-ms", 5, 1, 1000));
        options.only = args.text("only", options.only);
        args.reject_unknown();
        const std::string& only = options.only;
        if (only != "all" && only != "j" && only != "k" &&
            !(only.size() == 2 && only[0] == 'k' && only[1] >= '1' && only[1] <= '5')) {
            throw bench::UsageError("--only must be all, j, k or k1 ... k5");
        }
    } catch (const bench::UsageError& e) {
        (void)std::fprintf(stderr,
                           "topology_bench: %s\nusage: topology_bench [--rounds 2] "
                           "[--latency-count 1000] [--seconds 3] [--pace-ms 5] "
                           "[--only all|j|k|k1..k5]\n",
                           e.what());
        return 2;
    }
    try {
        std::string report;
        if (options.only == "all" || options.only == "j") {
            report += measure_topologies(options);
        }
        if (options.only != "j") {
            report += (report.empty() ? "" : "\n") +
                      report_failovers(measure_failovers(options), options);
        }
        (void)std::printf("%s", report.c_str());
        return 0;
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "topology_bench: %s\n", e.what());
        return 1;
    }
}
