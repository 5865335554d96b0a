// bscd-gateway: relays builds' status events from Redis to browsers
// (docs/gateway.md). Wires the parts together: options, catalog, the shared
// state with its Redis links and event loops, the listener, the signals.

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sys/resource.h>

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "common/catalog_file.hpp"
#include "core/catalog.hpp"
#include "gateway/access_token.hpp"
#include "gateway/gateway.hpp"
#include "gateway/gateway_options.hpp"
#include "gateway/listener.hpp"
#include "logging/logging.hpp"

namespace {

// Every viewer is a descriptor: take all the process may have.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            spdlog::warn("Could not raise the open files limit to {}", limit.rlim_max);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    (void)std::signal(SIGPIPE, SIG_IGN);  // a viewer that left must not kill the gateway
    const auto parsed = bscd::parse_gateway_options(argc, argv);
    if (!parsed.options) {
        return parsed.exit_status;
    }
    const bscd::GatewayOptions& options = *parsed.options;
    if (!options.print_token_for.empty()) {
        std::cout << bscd::access_token(options.token_secret, options.print_token_for) << '\n';
        return 0;
    }
    try {
        bscd::init_logging({options.verbose, options.log_file});
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "bscd-gateway: %s\n", e.what());
        return 1;
    }
    try {
        raise_descriptor_limit();
        bscd::Catalog catalog = options.codes_file.empty()
                                    ? bscd::Catalog::builtin()
                                    : bscd::read_catalog_file(options.codes_file);
        bscd::Gateway gateway(options, std::move(catalog));
        auto listener = std::make_shared<bscd::Listener>(gateway);
        std::optional<boost::asio::signal_set> signals(std::in_place, gateway.io(), SIGINT,
                                                       SIGTERM);
        // What lives on loop 0 goes first, while the loops exist (signals,
        // Redis links, timers); the loops go with the gateway, and with them
        // the sessions still pending in them. On every way out.
        const auto shut_down = [&] {
            signals.reset();
            gateway.stop();
            listener.reset();
        };
        try {
            listener->start();
            gateway.start();
            if (options.token_secret.empty()) {
                spdlog::info(
                    "No --token-secret: anyone who reaches this port can view any project");
            }
            signals->async_wait([&](const boost::system::error_code& ec, int signal) {
                if (!ec) {
                    spdlog::info("Signal {}: stopping", signal);
                    listener->close();
                    gateway.shut_down();
                }
            });
            gateway.run();
        } catch (...) {
            gateway.shut_down();
            shut_down();
            throw;
        }
        shut_down();
        bscd::flush_logs();
        return 0;
    } catch (const std::exception& e) {  // CatalogError, the address in use
        spdlog::critical("{}", e.what());
        return 1;
    }
}
