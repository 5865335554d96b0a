#pragma once
// Everything bscd is told on its command line (README.md, "bscd: the
// server"; its place among the parts: docs/architecture.md, "The parts").

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "redis/redis_options.hpp"
#include "server/socket_access.hpp"

namespace bscd {

struct ServerOptions {
    // Pieman's flags, same names and defaults.
    std::string socket_path;  // -a; default from --project and the runtime dir
    bool daemonize = false;   // -d
    RedisOptions redis;       // -H, -P and the new Redis options
    std::string log_file;     // -l
    std::string channel;      // -n; default "bscd-<project>", else Pieman's "build_status_codes"
    std::string pid_file;     // -p; default from --project and the runtime dir; empty: none
    bool verbose = false;     // -v
    // Added by bscd.
    std::string project;  // --project, PROJECT_NAME
    std::string profile;  // --profile, BSCD_PROFILE, else Pieman's $OS.$DEVICE; empty: none
    std::string codes_file;
    std::string runtime_dir;
    SocketAccess socket_access;  // --socket-mode, --socket-group, --allow-uid, --allow-gid
    std::size_t max_connections = 1024;
    std::chrono::milliseconds idle_timeout{30'000};
    std::chrono::milliseconds shutdown_timeout{5'000};
    std::size_t outbox_capacity = 100'000;
    std::string spool_dir;  // --spool: accepted codes reach the disk before OK
    // --redis-replicas: a batch counts as confirmed once WAIT reports this
    // many replicas have it; 0: no WAIT.
    std::size_t redis_replicas = 0;
    bool keep_history = true;  // --no-history: Pieman's traffic exactly, no stream
    std::size_t history_length = 1000;
    std::chrono::seconds history_ttl{86'400};
    std::chrono::seconds history_idle_ttl{std::chrono::days(7)};
};

// Parses bscd's command line and fills in the derived defaults. Returns the
// options, or the status to exit with (0 after --help, 2 on a usage error,
// which it has already explained on stderr).
struct ParsedServerOptions {
    std::optional<ServerOptions> options;
    int exit_status = 0;
};
ParsedServerOptions parse_server_options(int argc, char** argv);

}  // namespace bscd
