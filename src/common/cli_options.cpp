#include "common/cli_options.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

namespace bscd {
namespace {

// An option as usage errors name it, and the environment variable standing
// in for it when it is not on the command line (empty: none).
struct OptionName {
    std::string_view name;  // "-H/--redis-host"
    std::string_view env;
};

constexpr OptionName sentinel_option{"--redis-sentinel", "REDIS_SENTINELS"};
constexpr OptionName cluster_option{"--redis-cluster", "REDIS_CLUSTER"};
// What names one server, against which the other topologies are chosen.
constexpr std::array<OptionName, 3> one_server_options{{
    {"-H/--redis-host", ""},
    {"-P/--redis-port", ""},
    {"--redis-socket", ""},
}};

// CLI11 counts an option filled from its environment variable as given; only
// the command line's arguments are in parse_order().
bool on_command_line(const CLI::App& app, const OptionName& named) {
    const auto long_name = named.name.substr(named.name.find("--"));
    const CLI::Option* option = app.get_option(std::string(long_name));
    const auto& given = app.parse_order();
    return std::find(given.begin(), given.end(), option) != given.end();
}

// Where a value came from, as a usage error says it: "--redis-sentinel", or
// "REDIS_SENTINELS (--redis-sentinel)" when the environment gave it.
std::string source_of(const CLI::App& app, const OptionName& named) {
    if (named.env.empty() || on_command_line(app, named)) {
        return std::string(named.name);
    }
    return std::string(named.env) + " (" + std::string(named.name) + ")";
}

// --redis-sentinel and --redis-cluster: repeatable, and each value (and the
// variable) may be a comma-separated list.
void add_node_list_option(CLI::App& app, const OptionName& named, std::vector<HostPort>& nodes,
                          const std::string& help) {
    app.add_option_function<std::vector<std::string>>(
           std::string(named.name),
           [&app, &nodes, named](const std::vector<std::string>& texts) {
               nodes.clear();
               for (const auto& text : texts) {
                   const auto list = parse_host_port_list(text);
                   if (!list || list->empty()) {
                       throw CLI::ValidationError(source_of(app, named),
                                                  "\"" + text +
                                                      "\" is not HOST:PORT (or a comma-separated "
                                                      "list of them), e.g. 10.0.0.1:26379 or "
                                                      "[::1]:26379");
                   }
                   nodes.insert(nodes.end(), list->begin(), list->end());
               }
           },
           help)
        ->envname(std::string(named.env))
        ->type_name("HOST:PORT")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
}

// The rules between options, once all are parsed (see add_redis_options).
void check_topology(const CLI::App& app, const RedisOptions& options) {
    const bool sentinels = !options.sentinels.empty();
    const bool clustered = !options.cluster_nodes.empty();
    if (!sentinels && !clustered) {
        return;
    }
    if (sentinels && clustered) {
        throw CLI::ValidationError(source_of(app, sentinel_option) + " and " +
                                   source_of(app, cluster_option) +
                                   " exclude each other: Redis is either a Sentinel group or a "
                                   "Cluster (see docs/scaling.md)");
    }
    const std::string topology = source_of(app, sentinels ? sentinel_option : cluster_option);
    const std::string why = sentinels ? "the sentinels name the master"
                                      : "the cluster's nodes say which master serves a key";
    for (const auto& server : one_server_options) {
        if (on_command_line(app, server)) {
            std::string message(server.name);
            message += " cannot be combined with ";
            message += topology;
            message += ": ";
            message += why;
            message += " (REDIS_HOST and REDIS_PORT are ignored then; see docs/scaling.md)";
            throw CLI::ValidationError(message);
        }
    }
    if (clustered && options.db != 0) {
        throw CLI::ValidationError("--redis-db " + std::to_string(options.db) +
                                   " cannot be combined with " + topology +
                                   ": a Redis Cluster has only database 0");
    }
}

}  // namespace

void add_redis_options(CLI::App& app, RedisOptions& options) {
    app.add_option("-H,--redis-host", options.host,
                   "Redis server host (one server; REDIS_HOST is ignored with --redis-sentinel "
                   "or --redis-cluster)")
        ->envname("REDIS_HOST")
        ->capture_default_str();
    app.add_option("-P,--redis-port", options.port,
                   "Redis server port (one server; REDIS_PORT is ignored with --redis-sentinel "
                   "or --redis-cluster)")
        ->envname("REDIS_PORT")
        ->check(CLI::Range(1, 65535))
        ->capture_default_str();
    app.add_option("--redis-socket", options.unix_socket,
                   "Redis Unix socket path (instead of host and port)");
    app.add_option("--redis-user", options.user,
                   "Redis ACL user (Redis 6 and later), authenticated with the password")
        ->envname("REDIS_USER");
    auto* password =
        app.add_option(std::string(redis_password_option.name), options.password,
                       "Redis password; prefer REDIS_PASSWORD or --redis-password-file: "
                       "arguments are visible in ps (this one is overwritten once read)")
            ->envname("REDIS_PASSWORD");
    app.add_option_function<std::string>(
           "--redis-password-file",
           [&options](const std::string& path) { options.password = read_password_file(path); },
           "file whose first line is the Redis password")
        ->type_name("FILE")
        ->excludes(password);
    app.add_option("--redis-db", options.db, "Redis database number (only 0 in a Cluster)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();

    add_node_list_option(app, sentinel_option, options.sentinels,
                         "Redis Sentinel to ask for the master's address, instead of "
                         "-H/-P/--redis-socket; repeatable (or a comma list): the sentinels are "
                         "asked in turn, and again after a failover. See docs/scaling.md");
    app.add_option("--redis-master-name", options.master_name,
                   "name of the master the sentinels watch (sentinel monitor NAME ...)")
        ->envname("REDIS_MASTER_NAME")
        ->type_name("NAME")
        ->capture_default_str();
    app.add_option("--redis-sentinel-user", options.sentinel_user,
                   "ACL user on the sentinels themselves (their own login, not the data nodes')")
        ->envname("REDIS_SENTINEL_USER")
        ->type_name("NAME");
    // As REDIS_PASSWORD, the variable holds the password itself, and the file,
    // given, wins. No option takes it as a value: ps would show it.
    if (const char* password_env = std::getenv("REDIS_SENTINEL_PASSWORD");
        password_env != nullptr) {
        options.sentinel_password = password_env;
    }
    app.add_option_function<std::string>(
           "--redis-sentinel-password-file",
           [&options](const std::string& path) {
               options.sentinel_password =
                   read_secret_file("--redis-sentinel-password-file", path, "password");
           },
           "file whose first line is the sentinels' own password (or give it in "
           "REDIS_SENTINEL_PASSWORD)")
        ->type_name("FILE");
    add_node_list_option(app, cluster_option, options.cluster_nodes,
                         "Redis Cluster node to learn the cluster's slots from, instead of "
                         "-H/-P/--redis-socket; repeatable (or a comma list) with any nodes of "
                         "the cluster. See docs/scaling.md");

    app.final_callback([&app, &options] { check_topology(app, options); });
}

std::string read_secret_file(std::string_view option, const std::string& path,
                             std::string_view what) {
    std::ifstream in(path);
    if (!in) {
        throw CLI::ValidationError(std::string(option),
                                   "cannot read " + path + ": " + std::strerror(errno));
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    if (line.empty()) {
        throw CLI::ValidationError(std::string(option),
                                   path + " has no " + std::string(what) + " on its first line");
    }
    return line;
}

bool hide_secret_option(std::string_view program, int argc, char** argv, const SecretOption& secret,
                        bool warn) {
    const std::string_view option = secret.name;
    bool hidden = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            break;  // the rest are positional arguments
        }
        char* value = nullptr;
        if (arg == option && i + 1 < argc) {
            value = argv[++i];
        } else if (arg.starts_with(option) && arg.size() > option.size() &&
                   arg[option.size()] == '=') {
            value = argv[i] + option.size() + 1;
        }
        if (value != nullptr) {
            // In place: /proc/PID/cmdline reads this very memory.
            std::memset(value, 'x', std::strlen(value));
            hidden = true;
        }
    }
    if (hidden && warn) {
        (void)std::fprintf(stderr,
                           "%.*s: warning: %.*s on the command line can be seen by every user "
                           "(ps); use %.*s instead\n",
                           static_cast<int>(program.size()), program.data(),
                           static_cast<int>(secret.what.size()), secret.what.data(),
                           static_cast<int>(secret.instead.size()), secret.instead.data());
    }
    return hidden;
}

}  // namespace bscd
