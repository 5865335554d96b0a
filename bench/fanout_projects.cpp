// gateway_fanout --mode projects: many projects, few viewers each, as a
// build service has them (bench/run.sh, section (h)).
//
//   gateway_fanout --mode projects --gateway 127.0.0.1:PORT --gateway-pid PID
//                  --redis-port PORT --script FILE --prefix NAME
//                  [--projects 10000] [--viewers-per-project 2] [--rate 1000]
//                  [--seconds 10] [--sources 8] [--connecting 200]
//                  [--watch NAME=PID]...
//
// Connects V viewers to each of the P projects NAME0 .. NAME(P-1) (fresh
// ones: their histories empty), then writes codes at RATE per second for
// SECONDS, each to the next project of a shuffled round of all P, as bscd
// writes one: an EVALSHA of its history script (the text in FILE, loaded
// with SCRIPT LOAD; bench/run.sh takes it from src/redis/history_script.cpp)
// with bscd's arguments for a one-code batch, which XADDs the code to the
// project's stream and PUBLISHes it on its channel. Times each code from
// just before its write to Redis until each viewer has read it. Prints one
// line of key=value tokens; exits 1 when a viewer missed a code.
//
// One thread: the viewers, the Redis link and the pace. Links hiredis for
// its reply parser and command formatting only (the I/O is Asio's).

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <hiredis/hiredis.h>

#include "fanout_common.hpp"
#include "fanout_modes.hpp"
#include "options.hpp"
#include "process_stats.hpp"
#include "sse_parser.hpp"
#include "stats.hpp"

namespace bench {

namespace {

namespace asio = boost::asio;

struct ReplyFree {
    void operator()(void* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;
struct ReaderFree {
    void operator()(redisReader* reader) const { redisReaderFree(reader); }
};

// One Redis connection: blocking commands while nothing else reads it,
// and pipelined ones whose replies are read by the loop.
class RedisLink {
public:
    RedisLink(asio::io_context& io, unsigned short port)
        : socket_(io), reader_(redisReaderCreate()) {
        socket_.connect({asio::ip::address_v4::loopback(), port});
        socket_.set_option(tcp::no_delay(true));
    }

    // Sends a command now (the write is done when this returns).
    void send(const std::vector<std::string>& args) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lengths;
        for (const auto& arg : args) {
            argv.push_back(arg.data());
            lengths.push_back(arg.size());
        }
        char* command = nullptr;
        const int size = redisFormatCommandArgv(&command, static_cast<int>(args.size()),
                                                argv.data(), lengths.data());
        if (size < 0) {
            throw std::runtime_error("redisFormatCommandArgv failed");
        }
        const std::unique_ptr<char, void (*)(char*)> owned(command, redisFreeCommand);
        asio::write(socket_, asio::buffer(command, static_cast<std::size_t>(size)));
    }

    // A reply already read, or nullptr.
    Reply next() {
        void* reply = nullptr;
        if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) {
            throw std::runtime_error("Redis: a malformed reply");
        }
        return Reply(static_cast<redisReply*>(reply));
    }

    // A command and its reply, blocking (nothing else may read meanwhile).
    Reply command(const std::vector<std::string>& args) {
        send(args);
        return wait_reply();
    }

    // The next reply, blocking (nothing else may read meanwhile).
    Reply wait_reply() {
        for (;;) {
            if (auto reply = next()) {
                return reply;
            }
            std::array<char, 16384> buffer{};
            const std::size_t got = socket_.read_some(asio::buffer(buffer));
            (void)redisReaderFeed(reader_.get(), buffer.data(), got);
        }
    }

    // Reads replies in the loop, calling on_reply for each.
    template <class OnReply>
    void read_async(OnReply on_reply) {
        socket_.async_read_some(
            asio::buffer(buffer_), [this, on_reply](boost::system::error_code ec, std::size_t got) {
                if (ec) {
                    return;  // cancelled at the end, or Redis gone: the count says so
                }
                (void)redisReaderFeed(reader_.get(), buffer_.data(), got);
                while (auto reply = next()) {
                    on_reply(*reply);
                }
                read_async(on_reply);
            });
    }

    void cancel() {
        boost::system::error_code ignored;
        socket_.cancel(ignored);
    }

private:
    tcp::socket socket_;
    std::unique_ptr<redisReader, ReaderFree> reader_;
    std::array<char, 16384> buffer_{};
};

// calls per command from INFO commandstats.
std::map<std::string, long long> command_calls(RedisLink& redis) {
    std::map<std::string, long long> calls;
    const Reply reply = redis.command({"INFO", "commandstats"});
    if (!reply || reply->type != REDIS_REPLY_STRING) {
        return calls;
    }
    std::istringstream lines(std::string(reply->str, reply->len));
    std::string line;
    while (std::getline(lines, line)) {
        const auto colon = line.find(':');
        const auto equals = line.find("calls=");
        if (line.rfind("cmdstat_", 0) != 0 || colon == std::string::npos ||
            equals == std::string::npos) {
            continue;
        }
        calls[line.substr(8, colon - 8)] = std::stoll(line.substr(equals + 6));
    }
    return calls;
}

class Load;

struct ProjectViewer final : SseEventSink {
    ProjectViewer(asio::io_context& io, Load& owner, std::size_t of)
        : socket(io), load(owner), project(of) {}
    void on_event(std::string_view id, int code) override;

    tcp::socket socket;
    Load& load;
    std::size_t project;
    SseParser parser;
    std::array<char, 2048> buffer{};
    std::size_t events = 0;
    bool streaming = false;
    bool failed = false;
};

// A code written and not yet read by every viewer of its project.
struct Pending {
    std::string id;
    Clock::time_point written;
    std::size_t missing = 0;
};

class Load {
public:
    Load(asio::io_context& io, const tcp::endpoint& gateway, std::string prefix,
         std::size_t projects, std::size_t per_project, std::size_t sources, std::size_t connecting)
        : io_(io),
          gateway_(gateway),
          prefix_(std::move(prefix)),
          projects_(projects),
          per_project_(per_project),
          sources_(sources),
          max_connecting_(connecting),
          pending_(projects),
          seed_(projects) {}

    bool connect_all(Clock::duration timeout) {
        const std::size_t total = projects_ * per_project_;
        viewers_.reserve(total);
        while (viewers_.size() < total && connecting_ < max_connecting_) {
            connect_next();
        }
        return run_until([&] { return streaming_ == total || failed_ > 0; }, timeout) &&
               failed_ == 0;
    }

    template <class Done>
    bool run_until(Done done, Clock::duration timeout) {
        const auto deadline = Clock::now() + timeout;
        while (!done()) {
            if (Clock::now() >= deadline) {
                return false;
            }
            if (io_.run_one_until(deadline) == 0 && Clock::now() < deadline) {
                io_.restart();
                return done();
            }
        }
        return true;
    }

    void idle(Clock::duration duration) {
        (void)run_until([] { return false; }, duration);
    }

    // A code written to `project` just now, to be read by its viewers.
    void written(std::size_t project, std::string id) {
        pending_[project].push_back(Pending{std::move(id), Clock::now(), per_project_});
        ++outstanding_;
    }

    // The code written to `project` before its viewers came: each gets it
    // once, from the history.
    void seeded(std::size_t project, std::string id) { seed_.at(project) = std::move(id); }

    void on_event(ProjectViewer& viewer, std::string_view id, int /*code*/) {
        const auto now = Clock::now();
        ++viewer.events;
        if (viewer.events == 1 && id == seed_[viewer.project]) {
            return;
        }
        auto& waiting = pending_[viewer.project];
        const auto it = std::find_if(waiting.begin(), waiting.end(),
                                     [&](const Pending& p) { return p.id == id; });
        if (it == waiting.end()) {
            ++unexpected_;
            note_error("project " + std::to_string(viewer.project) + ": unexpected event " +
                       std::string(id));
            return;
        }
        latencies_ms_.push_back(seconds_between(it->written, now) * 1e3);
        if (--it->missing == 0) {
            --outstanding_;
            waiting.erase(it);
        }
    }

    [[nodiscard]] std::size_t outstanding() const { return outstanding_; }
    [[nodiscard]] std::size_t unexpected() const { return unexpected_; }
    [[nodiscard]] std::size_t failed() const { return failed_; }
    [[nodiscard]] const std::string& first_error() const { return first_error_; }
    [[nodiscard]] std::vector<double>& latencies_ms() { return latencies_ms_; }

    void note_error(const std::string& why) {
        if (first_error_.empty()) {
            first_error_ = why;
        }
    }

private:
    void connect_next() {
        const std::size_t index = viewers_.size();
        ++connecting_;
        viewers_.push_back(std::make_unique<ProjectViewer>(io_, *this, index % projects_));
        ProjectViewer& viewer = *viewers_.back();
        boost::system::error_code ec;
        viewer.socket.open(tcp::v4(), ec);
        const int bound = ec ? 0 : bind_source(viewer.socket.native_handle(), index, sources_);
        if (ec || bound != 0) {
            fail(viewer,
                 ec ? "socket: " + ec.message() : "bind: " + std::string(std::strerror(bound)));
            return;
        }
        viewer.socket.async_connect(gateway_, [this, &viewer](boost::system::error_code error) {
            if (error) {
                fail(viewer, "connect: " + error.message());
                return;
            }
            auto request = std::make_shared<std::string>(
                "GET /api/v1/projects/" + prefix_ + std::to_string(viewer.project) +
                "/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
            asio::async_write(
                viewer.socket, asio::buffer(*request),
                [this, &viewer, request](boost::system::error_code write_error, std::size_t) {
                    if (write_error) {
                        fail(viewer, "request: " + write_error.message());
                    }
                });
            read(viewer);
        });
    }

    void read(ProjectViewer& viewer) {
        viewer.socket.async_read_some(asio::buffer(viewer.buffer), [this, &viewer](
                                                                       boost::system::error_code ec,
                                                                       std::size_t got) {
            if (viewer.failed) {
                return;
            }
            if (ec) {
                fail(viewer, ec == asio::error::eof ? "the gateway closed the stream"
                                                    : "read: " + ec.message());
                return;
            }
            viewer.parser.feed(std::string_view(viewer.buffer.data(), got), viewer);
            if (viewer.parser.failed() || viewer.parser.ended()) {
                fail(viewer, viewer.parser.failed() ? viewer.parser.error() : "the stream ended");
                return;
            }
            if (!viewer.streaming && viewer.parser.streaming()) {
                viewer.streaming = true;
                ++streaming_;
                --connecting_;
                if (viewers_.size() < projects_ * per_project_) {
                    connect_next();
                }
            }
            read(viewer);
        });
    }

    void fail(ProjectViewer& viewer, const std::string& why) {
        if (viewer.failed) {
            return;
        }
        viewer.failed = true;
        ++failed_;
        if (viewer.streaming) {
            --streaming_;
        } else {
            --connecting_;
        }
        note_error(why);
        boost::system::error_code ignored;
        viewer.socket.close(ignored);
    }

    asio::io_context& io_;
    tcp::endpoint gateway_;
    std::string prefix_;
    std::size_t projects_;
    std::size_t per_project_;
    std::size_t sources_;
    std::size_t max_connecting_;
    std::vector<std::unique_ptr<ProjectViewer>> viewers_;
    std::vector<std::deque<Pending>> pending_;
    std::vector<std::string> seed_;  // by project
    std::size_t connecting_ = 0;
    std::size_t streaming_ = 0;
    std::size_t failed_ = 0;
    std::size_t outstanding_ = 0;
    std::size_t unexpected_ = 0;
    std::vector<double> latencies_ms_;
    std::string first_error_;
};

void ProjectViewer::on_event(std::string_view id, int code) {
    load.on_event(*this, id, code);
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int run_projects(const Options& options) {
    const tcp::endpoint gateway = gateway_endpoint(options.text("gateway"));
    const auto gateway_pid = static_cast<pid_t>(options.integer("gateway-pid", 0, 1, 1 << 30));
    const auto redis_port =
        static_cast<unsigned short>(options.integer("redis-port", 6379, 1, 65535));
    const std::string script_file = options.text("script");
    const std::string prefix = options.text("prefix", "benchmp");
    const auto projects = static_cast<std::size_t>(options.integer("projects", 10'000, 1, 100'000));
    const auto per_project =
        static_cast<std::size_t>(options.integer("viewers-per-project", 2, 1, 100));
    const double rate = options.real("rate", 1000, 1, 100'000);
    const double seconds = options.real("seconds", 10, 0.1, 3600);
    const auto sources = static_cast<std::size_t>(options.integer("sources", 8, 1, 250));
    const auto connecting = static_cast<std::size_t>(options.integer("connecting", 200, 1, 10'000));
    (void)options.text("mode");
    std::vector<std::string> watch = options.all("watch");
    watch.insert(watch.begin(), "gateway=" + std::to_string(gateway_pid));
    auto watched = parse_watched(watch);
    options.reject_unknown();

    std::ifstream file(script_file);
    std::stringstream text;
    text << file.rdbuf();
    if (!file || text.str().find("redis.call('XADD'") == std::string::npos) {
        throw UsageError("--script: no history script in '" + script_file + "'");
    }
    if (!wait_healthy(gateway, 10)) {
        (void)std::fprintf(stderr,
                           "gateway_fanout: ERROR: the gateway's /healthz did not answer 200\n");
        return 1;
    }

    asio::io_context io(1);
    RedisLink redis(io, redis_port);
    const Reply loaded = redis.command({"SCRIPT", "LOAD", text.str()});
    if (!loaded || loaded->type != REDIS_REPLY_STRING) {
        (void)std::fprintf(stderr, "gateway_fanout: ERROR: SCRIPT LOAD failed\n");
        return 1;
    }
    const std::string sha(loaded->str, loaded->len);

    Load load(io, gateway, prefix, projects, per_project, sources, connecting);
    // Each project's codes: stage codes in turn (a final one would end the streams).
    const std::array<std::pair<const char*, const char*>, 3> stages{
        {{"10", "PREPARED_CHROOT_ENV_CODE"},
         {"20", "CREATED_BOOTSTRAP_CODE"},
         {"30", "MOUNTED_PROC_CODE"}}};
    std::vector<std::size_t> order(projects);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937 random(14);
    std::shuffle(order.begin(), order.end(), random);
    std::vector<std::pair<std::int64_t, std::int64_t>> last_id(projects, {0, 0});
    std::vector<std::size_t> count(projects, 0);
    const std::string started_ms = std::to_string(unix_ms());
    const auto total = static_cast<std::size_t>(rate * seconds);
    std::size_t sent = 0;
    // Writes the next code as bscd would, to `project`; returns its id.
    auto write_code = [&](std::size_t project) {
        const std::string channel = "bscd-" + prefix + std::to_string(project);
        const std::string stream = channel + ":events";
        auto& [ms, seq] = last_id[project];
        const std::int64_t now = unix_ms();
        if (now > ms) {
            ms = now;
            seq = 0;
        } else {
            ++seq;
        }
        std::string id = std::to_string(ms) + "-" + std::to_string(seq);
        const auto& [code, name] = stages.at(count[project]++ % stages.size());
        // bscd's call for a one-code batch (history_script_call): no unconfirmed
        // entry before it, the default length and lifetimes, the build's start.
        redis.send({"EVALSHA",
                    sha,
                    "2",
                    stream,
                    "{" + stream + "}:build",
                    channel,
                    "1000",
                    "86400000",
                    "604800000",
                    "0-0",
                    "",
                    "",
                    "0-0",
                    started_ms,
                    "",
                    id,
                    code,
                    name,
                    std::to_string(now),
                    "0"});
        return id;
    };
    auto send_one = [&] {
        const std::size_t project = order[sent % projects];
        load.written(project, write_code(project));
        ++sent;
    };
    // A build in progress: each project's stream holds a code before the
    // viewers come (so that the script finds a stream, as it does for every
    // code of a build but the first). The viewers get it from the history
    // as they connect; it is not timed.
    for (std::size_t project = 0; project < projects; ++project) {
        load.seeded(project, write_code(project));
    }
    for (std::size_t project = 0; project < projects; ++project) {
        const Reply reply = redis.wait_reply();
        if (!reply || reply->type != REDIS_REPLY_ARRAY) {
            (void)std::fprintf(stderr, "gateway_fanout: ERROR: a seed code was not written\n");
            return 1;
        }
    }
    const Memory before = memory_of(gateway_pid);
    const auto connect_start = Clock::now();
    const bool connected = load.connect_all(std::chrono::seconds(120));
    const double connect_s = seconds_between(connect_start, Clock::now());
    load.idle(std::chrono::milliseconds(500));  // the gateway's history reads and last heads
    const Memory connected_memory = memory_of(gateway_pid);
    const std::string followed =
        metric(http_get(gateway, "/metrics").value_or(""), "bscd_gateway_projects_followed");

    std::size_t replies = 0;
    std::size_t bad_replies = 0;
    redis.read_async([&](const redisReply& reply) {
        ++replies;
        if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 3 ||
            reply.element[1]->type != REDIS_REPLY_INTEGER || reply.element[1]->integer != 1) {
            ++bad_replies;
            load.note_error(reply.type == REDIS_REPLY_ERROR
                                ? std::string(reply.str, reply.len)
                                : "a history script reply that wrote nothing");
        }
    });

    const std::map<std::string, long long> calls_before = command_calls(redis);
    mark_cpu(watched);
    const Memory load_start_memory = memory_of(gateway_pid);
    asio::steady_timer pace(io);
    const auto load_start = Clock::now();
    std::function<void()> tick = [&] {
        const double elapsed = seconds_between(load_start, Clock::now());
        const auto due = std::min(total, static_cast<std::size_t>(elapsed * rate) + 1);
        while (sent < due) {
            send_one();
        }
        if (sent < total) {
            pace.expires_after(std::chrono::milliseconds(1));
            pace.async_wait([&](boost::system::error_code ec) {
                if (!ec) {
                    tick();
                }
            });
        }
    };
    if (connected) {
        tick();
        (void)load.run_until(
            [&] { return sent == total && load.outstanding() == 0 && replies == sent; },
            std::chrono::duration_cast<Clock::duration>(
                std::chrono::duration<double>(seconds + 15)));
    }
    const double load_s = seconds_between(load_start, Clock::now());
    const std::string cpu = cpu_report(watched, static_cast<double>(sent));
    pace.cancel();
    redis.cancel();
    load.idle(std::chrono::milliseconds(50));  // the cancelled read completes
    const std::map<std::string, long long> calls_after = command_calls(redis);
    load.idle(std::chrono::milliseconds(200));
    const Memory after = memory_of(gateway_pid);
    const std::string metrics = http_get(gateway, "/metrics").value_or("");

    // Commands per code, busiest first; INFO itself left out.
    std::vector<std::pair<double, std::string>> per_code;
    double commands = 0;
    for (const auto& [name, n] : calls_after) {
        const auto was = calls_before.find(name);
        const long long diff =
            n - (was == calls_before.end() ? 0 : was->second) - (name == "info" ? 1 : 0);
        if (diff > 0 && sent > 0) {
            per_code.emplace_back(static_cast<double>(diff) / static_cast<double>(sent), name);
            commands += static_cast<double>(diff);
        }
    }
    std::sort(per_code.rbegin(), per_code.rend());
    std::string breakdown;
    for (const auto& [value, name] : per_code) {
        breakdown += (breakdown.empty() ? "" : ",") + name + ":" + fixed(value, 2);
    }

    std::vector<double>& latencies = load.latencies_ms();
    const std::size_t expected = sent * per_project;
    const double p = static_cast<double>(projects);
    std::string out =
        "projects projects=" + std::to_string(projects) +
        " viewers=" + std::to_string(projects * per_project) + " codes=" + std::to_string(sent) +
        " rate=" + fixed(rate, 0) + " load_s=" + fixed(load_s, 2) +
        " connect_s=" + fixed(connect_s, 2) + " deliveries=" + std::to_string(latencies.size()) +
        " expected=" + std::to_string(expected) +
        " unexpected=" + std::to_string(load.unexpected()) +
        " failed_viewers=" + std::to_string(load.failed()) +
        " bad_replies=" + std::to_string(bad_replies) + quantiles_ms(latencies, "latency");
    out += " rss0_kb=" + std::to_string(before.rss) +
           " rss_connected_kb=" + std::to_string(connected_memory.rss) +
           " rss_load_start_kb=" + std::to_string(load_start_memory.rss) +
           " rss_kb=" + std::to_string(after.rss) + " hwm_kb=" + std::to_string(after.hwm) +
           " threads=" + std::to_string(after.threads) + " per_project_connected_kb=" +
           fixed(static_cast<double>(connected_memory.rss - before.rss) / p, 2) +
           " per_project_kb=" + fixed(static_cast<double>(after.rss - before.rss) / p, 2) +
           " followed_connected=" + followed +
           " metric_followed=" + metric(metrics, "bscd_gateway_projects_followed") +
           " metric_viewers=" + metric(metrics, R"(bscd_gateway_viewers{transport="sse"})") +
           " metric_dropped=" + metric(metrics, "bscd_gateway_viewers_dropped_slow_total") +
           " redis_commands_per_code=" +
           fixed(sent > 0 ? commands / static_cast<double>(sent) : 0, 2) +
           " redis_commands=" + (breakdown.empty() ? "?" : breakdown) + cpu;
    (void)std::printf("%s\n", out.c_str());
    const bool ok = connected && sent == total && latencies.size() == expected &&
                    load.unexpected() == 0 && load.failed() == 0 && bad_replies == 0;
    if (!ok) {
        (void)std::fprintf(
            stderr,
            "gateway_fanout: ERROR: %zu projects x %zu viewers: %s; %zu of %zu codes sent, "
            "%zu of %zu deliveries, %zu failed viewers; first problem: %s\n",
            projects, per_project, connected ? "connected" : "NOT all connected", sent, total,
            latencies.size(), expected, load.failed(),
            load.first_error().empty() ? "none recorded" : load.first_error().c_str());
    }
    return ok ? 0 : 1;
}

}  // namespace bench
