#include "client/send_command.hpp"

#include <string>
#include <vector>

#include "client/command_line.hpp"
#include "client/request_exchange.hpp"
#include "client/socket_location.hpp"

namespace bscd::client {

int run_send_command(int argc, char** argv) {
    CLI::App app(
        "Sends requests (code values, code names or EXIT) to bscd over one connection and "
        "waits until bscd accepted every one. Exits 0 only when bscd answered OK to all.",
        "bsc send");
    SocketOptions socket_options;
    add_socket_options(app, socket_options);
    double timeout_seconds = 5;
    add_timeout_option(app, timeout_seconds, "Seconds to wait for all of bscd's answers");
    std::vector<std::string> requests;
    app.add_option("REQUEST", requests, "Code values (10), code names (SYNCED_CODE) or EXIT")
        ->required()
        ->check(CLI::Validator([](std::string& request) { return request_problem(request); }, "",
                               "one line"));

    if (auto status = parse_command_line(app, argc, argv)) {
        return *status;
    }
    send_requests(resolve_socket(socket_options), requests, to_timeout(timeout_seconds));
    return 0;
}

}  // namespace bscd::client
