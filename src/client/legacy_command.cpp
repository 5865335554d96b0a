#include "client/legacy_command.hpp"

#include <vector>

#include "client/command_line.hpp"
#include "client/request_exchange.hpp"
#include "client/socket_location.hpp"

namespace bscd::client {

int run_legacy_command(int argc, char** argv, const std::string& subcommands_help) {
    CLI::App app(
        "Reports a build status code (or EXIT) to bscd and waits until bscd accepted it. "
        "Compatible with Pieman's bsc.py.",
        "bsc");
    app.set_version_flag("--version", "bsc " + std::string(bsc_version()),
                         "Print the version and exit");
    app.footer(subcommands_help);

    SocketOptions socket_options;
    add_socket_options(app, socket_options);
    // Accepted for Pieman's command line; bsc talks to bscd, not to Redis.
    std::string redis_host = "127.0.0.1";
    int redis_port = 6379;
    app.add_option("-H,--redis-host", redis_host, "Ignored (accepted for compatibility)");
    app.add_option("-P,--redis-port", redis_port, "Ignored (accepted for compatibility)");
    // bscd answers EXIT once Redis has every code it holds, or once its
    // --shutdown-timeout (5 s unless set) ran out: wait longer than that
    // for its verdict (as share/bscd/bsc.sh and bsc.py do), and 5 s for a code.
    double timeout_seconds = 0;
    add_timeout_option(app, timeout_seconds, "Seconds to wait for bscd's answer")
        ->default_str("5, or 15 for EXIT");
    std::string request;
    app.add_option("REQUEST", request, "A code value (10), a code name (SYNCED_CODE) or EXIT")
        ->required();

    if (auto status = parse_command_line(app, argc, argv)) {
        return *status;
    }
    if (timeout_seconds == 0) {
        timeout_seconds = request == "EXIT" ? 15 : 5;
    }
    send_requests(resolve_socket(socket_options), {request}, to_timeout(timeout_seconds));
    return 0;
}

}  // namespace bscd::client
