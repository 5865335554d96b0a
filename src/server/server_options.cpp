#include "server/server_options.hpp"

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/cli_options.hpp"
#include "common/runtime_paths.hpp"
#include "core/project.hpp"

namespace bscd {
namespace {

// The access options as given on the command line.
struct AccessArguments {
    std::string mode = "0660";
    std::string group;
    std::vector<std::string> users;
    std::vector<std::string> groups;
};

// The access options as ids and a mode; throws CLI::ValidationError naming
// what is wrong.
SocketAccess resolve_access(const AccessArguments& given) {
    SocketAccess access;
    const auto mode = parse_socket_mode(given.mode);
    if (!mode) {
        throw CLI::ValidationError("--socket-mode", given.mode +
                                                        " is not a permission mode: 0000 to 0777 "
                                                        "in octal, e.g. 0660");
    }
    access.mode = *mode;
    access.authority.owner = ::geteuid();
    if (!given.group.empty()) {
        access.group = resolve_group(given.group);
        if (!access.group) {
            throw CLI::ValidationError("--socket-group", "no such group: " + given.group);
        }
    }
    for (const auto& user : given.users) {
        const auto uid = resolve_user(user);
        if (!uid) {
            throw CLI::ValidationError("--allow-uid", "no such user: " + user);
        }
        access.authority.allowed_uids.push_back(*uid);
    }
    for (const auto& group : given.groups) {
        const auto gid = resolve_group(group);
        if (!gid) {
            throw CLI::ValidationError("--allow-gid", "no such group: " + group);
        }
        access.authority.allowed_gids.push_back(*gid);
    }
    return access;
}

// A whole number, 0 or more: CLI11 alone would take "-1" as SIZE_MAX.
const CLI::Validator replica_count(
    [](const std::string& input) -> std::string {
        std::size_t value = 0;
        const auto* end = input.data() + input.size();
        const auto [ptr, ec] = std::from_chars(input.data(), end, value);
        if (input.empty() || ec != std::errc() || ptr != end) {
            return "the number of replicas must be a whole number, 0 or more, not " + input;
        }
        return {};
    },
    "", "replica count");

// A variable of the environment; empty when unset.
std::string_view environment(const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string_view() : std::string_view(value);
}

// Why `name` cannot be a profile (empty if it can); named both ways, as the
// value may come from the environment.
std::string profile_problem(const std::string& name) {
    return is_valid_profile_name(name) ? std::string()
                                       : "\"" + name +
                                             "\" is not a profile name (--profile or "
                                             "BSCD_PROFILE): " +
                                             std::string(profile_name_rule);
}

// Fills what depends on other options: Pieman's defaults without a project,
// per-project names with one.
void derive_defaults(ServerOptions& o) {
    // Pieman's build settings name the kind of build. Without a history
    // there is nothing to learn from, and no reason to refuse the default.
    if (o.profile.empty() && o.keep_history) {
        o.profile = default_profile(environment("OS"), environment("DEVICE"));
    }
    o.runtime_dir = resolve_runtime_dir(o.runtime_dir);
    if (o.channel.empty()) {
        o.channel = o.project.empty() ? "build_status_codes" : channel_for_project(o.project);
    }
    if (o.socket_path.empty()) {
        o.socket_path = socket_path(o.runtime_dir, o.project);
    }
    // As Pieman's bscd.py, a daemon in the foreground without -p writes no
    // pid file, so that two of them on different sockets run side by side;
    // a project names its own, and a daemonized bscd needs one to be stopped.
    if (o.pid_file.empty() && (o.daemonize || !o.project.empty())) {
        o.pid_file = pid_file_path(o.runtime_dir, o.project);
    }
}

}  // namespace

ParsedServerOptions parse_server_options(int argc, char** argv) {
    ServerOptions o;
    CLI::App app{
        "bscd: the build status codes server. Builders report each stage's code over a "
        "Unix socket; bscd publishes it to Redis on the channel, in order, and keeps "
        "its history.",
        "bscd"};
    app.get_formatter()->column_width(34);
    // As Pieman's argparse: an option given twice takes its last value.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    double idle_seconds = 30;
    double shutdown_seconds = 5;
    long long history_ttl_seconds = 86'400;
    long long history_idle_ttl_seconds = std::chrono::seconds(std::chrono::days(7)).count();

    app.add_option("-a,--unix-socket-name", o.socket_path,
                   "Unix domain socket file name [default: <runtime dir>/bscd-<project>.sock, "
                   "or /var/run/bscd.sock for root without a project]");
    app.add_flag("-d,--daemonize", o.daemonize,
                 "daemonize the server; returns once it serves and its pid file exists");
    add_redis_options(app, o.redis);
    auto* replicas =
        app.add_option(
               "--redis-replicas", o.redis_replicas,
               "count a batch of codes as confirmed only once WAIT reports at least R "
               "replicas have it (Sentinel: nothing answered OK is lost when a replica takes "
               "over); 0: do not wait")
            ->type_name("R")
            ->check(replica_count)
            ->capture_default_str();
    app.add_option("-l,--log-file-prefix", o.log_file, "log file (also logged to stderr)");
    app.add_option("-n,--channel-name", o.channel,
                   "Redis channel to publish codes to [default: bscd-<project>, or "
                   "build_status_codes without a project]");
    app.add_option("-p,--pid", o.pid_file,
                   "pid file name [default: <runtime dir>/bscd-<project>.pid with --project "
                   "or -d; none in the foreground without a project, as Pieman's]");
    app.add_flag("-v,--verbose", o.verbose, "turn on verbose mode (debug lines)");
    app.add_option("--project", o.project,
                   "project (build) name: names the channel, socket and pid file")
        ->envname("PROJECT_NAME")
        ->check([](const std::string& name) {
            return is_valid_project_name(name) ? std::string() : std::string(project_name_rule);
        });
    // BSCD_PROFILE is read after parsing, not as CLI11's envname: exported
    // for a whole build service, it must not make --no-history a usage error.
    auto* profile =
        app.add_option("--profile", o.profile,
                       "build profile, the kind of build whose timings compare (e.g. "
                       "bookworm-arm64): estimates are learnt from its earlier builds "
                       "[default: $BSCD_PROFILE; else $OS.$DEVICE when both are set, as "
                       "Pieman's; else none]")
            ->type_name("NAME")
            ->check([](const std::string& name) { return profile_problem(name); });
    app.add_option("--codes", o.codes_file,
                   "build status codes file (Pieman's NAME=VALUE format) replacing the built-in "
                   "catalog")
        ->check(CLI::ExistingFile);
    app.add_option("--runtime-dir", o.runtime_dir, runtime_dir_help);
    AccessArguments access;
    app.add_option("--socket-mode", access.mode,
                   "permissions of the socket file, in octal: who may connect")
        ->type_name("OCTAL")
        ->capture_default_str();
    app.add_option("--socket-group", access.group,
                   "group of the socket file (name or number), e.g. the builders' group "
                   "[default: the daemon's]")
        ->type_name("GROUP");
    app.add_option("--allow-uid", access.users,
                   "serve only these users (numbers or names; repeatable, or a comma list), and "
                   "those of --allow-gid; the daemon's own user and root always")
        ->type_name("UID[,UID...]")
        ->delimiter(',')
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--allow-gid", access.groups,
                   "serve only users whose primary group is one of these (and those of "
                   "--allow-uid)")
        ->type_name("GID[,GID...]")
        ->delimiter(',')
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--max-connections", o.max_connections,
                   "producer connections served at once; more are answered ERR")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--idle-timeout", idle_seconds,
                   "seconds a producer connection may stay silent before it is closed")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--shutdown-timeout", shutdown_seconds,
                   "seconds to wait on shutdown for Redis to take the codes still held")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--outbox-size", o.outbox_capacity,
                   "accepted codes held while Redis is away; beyond it requests get ERR")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    auto* spool = app.add_option(
        "--spool", o.spool_dir,
        "directory for the spool <DIR>/<channel>.spool: each accepted code is on disk before "
        "it is answered OK, and what Redis has not confirmed is sent again after a crash");
    spool->check(CLI::ExistingDirectory);
    auto* no_history = app.add_flag(
        "!--no-history", o.keep_history,
        "publish only, as Pieman's bscd.py: no history stream, so late viewers see nothing "
        "earlier and a code resent after a lost reply may be seen twice");
    // A replay is idempotent only because the history script skips ids it has.
    spool->excludes(no_history);
    // WAIT confirms what the script wrote, and a resent tail is skipped by it.
    replicas->excludes(no_history);
    // A profile's estimate is learnt from, and kept beside, the history.
    profile->excludes(no_history);
    app.add_option("--history-length", o.history_length,
                   "entries kept in the history stream <channel>:events (at least; Redis trims "
                   "in whole nodes)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--history-ttl", history_ttl_seconds,
                   "seconds the history is kept after a final code (1000 or 1001)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--history-idle-ttl", history_idle_ttl_seconds,
                   "seconds the history is kept after any other code: a build that died without "
                   "a final code does not leave it for ever")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.set_version_flag("--version", BSCD_VERSION);

    try {
        app.parse(argc, argv);
        o.socket_access = resolve_access(access);
        const std::string_view from_environment = environment("BSCD_PROFILE");
        if (o.profile.empty() && o.keep_history && !from_environment.empty()) {
            o.profile = from_environment;
            if (const std::string problem = profile_problem(o.profile); !problem.empty()) {
                throw CLI::ValidationError("--profile", problem);
            }
        }
    } catch (const CLI::ParseError& e) {
        const int status = app.exit(e);
        return {std::nullopt, status == 0 ? 0 : 2};
    }
    hide_redis_password("bscd", argc, argv);
    o.idle_timeout = std::chrono::milliseconds(static_cast<long long>(idle_seconds * 1000));
    o.shutdown_timeout = std::chrono::milliseconds(static_cast<long long>(shutdown_seconds * 1000));
    o.history_ttl = std::chrono::seconds(history_ttl_seconds);
    o.history_idle_ttl = std::chrono::seconds(history_idle_ttl_seconds);
    derive_defaults(o);
    return {o, 0};
}

}  // namespace bscd
