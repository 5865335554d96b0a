#pragma once
// A real redis-server for one test: no persistence, bound to 127.0.0.1 on a
// free port, plus a Unix socket in its own temporary directory. Killed,
// reaped and removed when the object goes away.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "support/process.hpp"
#include "support/redis_connection.hpp"
#include "support/temp_dir.hpp"

namespace bscd::test {

struct RedisServerOptions {
    std::string requirepass;              // empty: no authentication
    std::vector<std::string> extra_args;  // more arguments, e.g. {"--maxclients", "5"}
    std::chrono::milliseconds start_timeout = std::chrono::seconds(10);  // per attempt
    // Picks the port of each start attempt; empty: free_port(). A cluster
    // node needs its bus port (port + 10000) free as well.
    std::function<int()> pick_port;
};

class RedisServer {
public:
    using Options = RedisServerOptions;

    // Starts the server and waits until it answers PING over TCP. Retries on
    // another free port (up to 5 attempts) when it does not come up (another
    // process took the port). Throws std::runtime_error, with the server's
    // log, when it cannot start.
    RedisServer();
    explicit RedisServer(Options options);
    // SIGKILL (after SIGCONT when paused), reap, remove the directory.
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    const std::string& host() const { return host_; }
    int port() const { return port_; }
    // "127.0.0.1:PORT".
    std::string address() const { return host_ + ":" + std::to_string(port_); }
    std::string unix_socket() const { return dir_.file("redis.sock"); }
    const std::string& password() const { return options_.requirepass; }
    // -1 while stopped.
    pid_t pid() const { return process_ ? process_->pid() : -1; }
    bool running();

    // SIGTERM, and wait until it exited (SIGKILL after 10 s).
    void stop();
    // Starts again on the same port and socket, waits for PONG; no-op when it
    // runs. Throws std::runtime_error when it does not come up.
    void start();
    // SIGKILL, and reap.
    void kill();
    // SIGSTOP / SIGCONT: while paused the kernel still accepts connections,
    // but nothing is answered.
    void pause();
    void resume();
    // True between pause() and resume() (or stop(), kill()).
    bool paused() const { return paused_; }

    // Everything the server wrote to stdout/stderr (e.g. errors in its
    // arguments), then its log file; across restarts.
    std::string log() const;

    // Runs a command over a synchronous TCP connection owned by this object,
    // (re)connected and authenticated on demand: after stop(), kill() or a
    // failed command, the next call connects again. Throws std::runtime_error
    // when connecting or the command fails at the I/O level (including
    // `timeout`); Redis errors come back as Reply::Error.
    Reply command(const std::vector<std::string>& args,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Calls of each command since the server started (INFO commandstats),
    // by lower-case name ("xrange", "info", ...).
    std::map<std::string, long long> command_calls();
    // How many times `name` was called (command_calls()); 0 when never.
    long long calls_of(const std::string& name);
    // Error replies Redis gave since it started whose first word is `code`
    // ("NOPERM", "NOSCRIPT", ...; INFO errorstats), a script's included.
    long long errors_of(const std::string& code);

private:
    std::vector<std::string> arguments() const;
    bool launch(std::string& failure);  // one attempt on port_
    bool ready() const;
    void forget_process();

    Options options_;
    TempDir dir_;
    std::string host_ = "127.0.0.1";
    int port_ = 0;
    std::optional<Process> process_;
    std::string previous_output_;  // stdout/stderr of earlier runs
    bool paused_ = false;
    RedisContextPtr context_;
};

}  // namespace bscd::test
