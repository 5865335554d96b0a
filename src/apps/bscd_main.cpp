// bscd: the build status codes server. Wires the parts together in the order
// start-up needs: everything that can fail is checked before daemonizing, so
// errors reach the terminal and the exit status.

#include <csignal>
#include <cstdio>
#include <optional>

#include <spdlog/spdlog.h>

#include "common/catalog_file.hpp"
#include "core/catalog.hpp"
#include "core/project.hpp"
#include "core/unix_ms.hpp"
#include "logging/logging.hpp"
#include "redis/history_script.hpp"
#include "redis/publisher.hpp"
#include "redis/sync_client.hpp"
#include "server/build_recording.hpp"
#include "server/daemonizer.hpp"
#include "server/pid_file.hpp"
#include "server/producer_listener.hpp"
#include "server/server.hpp"
#include "server/server_options.hpp"
#include "server/spool.hpp"
#include "server/spool_keeping.hpp"
#include "server/startup.hpp"

namespace {

bscd::PublisherOptions publisher_options(const bscd::ServerOptions& options,
                                         const std::optional<bscd::BuildStart>& build) {
    bscd::PublisherOptions publisher;
    publisher.history = {options.channel, options.history_length, options.history_ttl,
                         options.history_idle_ttl, build};
    publisher.publishing =
        options.keep_history ? &bscd::history_publishing : &bscd::plain_publishing;
    publisher.replicas = options.redis_replicas;
    publisher.outbox_capacity = options.outbox_capacity;
    return publisher;
}

}  // namespace

int main(int argc, char** argv) {
    (void)std::signal(SIGPIPE, SIG_IGN);  // a client that left must not kill the daemon
    const auto parsed = bscd::parse_server_options(argc, argv);
    if (!parsed.options) {
        return parsed.exit_status;
    }
    const bscd::ServerOptions& options = *parsed.options;
    if (options.daemonize) {
        bscd::Daemonizer::close_inherited_descriptors();
    }
    try {
        bscd::init_logging({options.verbose, options.log_file});
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "bscd: %s\n", e.what());
        return 1;
    }
    try {
        const bscd::Catalog catalog = options.codes_file.empty()
                                          ? bscd::Catalog::builtin()
                                          : bscd::read_catalog_file(options.codes_file);
        bscd::ProducerListener::claim_path(options.socket_path);
        if (!options.pid_file.empty()) {
            bscd::PidFile::check_available(options.pid_file);
        }
        std::optional<bscd::Spool> spool;
        if (!options.spool_dir.empty()) {
            spool.emplace(options.spool_dir, options.channel);
        }
        bscd::Spool* const spool_or_null = spool ? &*spool : nullptr;
        bscd::BuildRecording recording(options.redis, options.project, options.channel, {});
        bscd::EntryId history_last;
        std::optional<bscd::BuildStart> build;
        try {
            bscd::SyncClient redis(options.redis);
            redis.ping();
            if (options.keep_history) {
                history_last = bscd::read_history_position(redis, options.channel);
                build =
                    recording.begin(redis, spool_or_null, {bscd::unix_ms_now(), options.profile},
                                    options.history_idle_ttl);
            }
        } catch (const bscd::RedisError& e) {
            spdlog::critical("Could not connect to Redis: {}", e.what());
            return 1;
        }

        auto daemon = options.daemonize ? bscd::Daemonizer::detach() : bscd::Daemonizer();
        boost::asio::io_context io;
        bscd::Publisher publisher(io, options.redis, publisher_options(options, build),
                                  history_last);
        publisher.on_final_confirmed([&recording] { recording.build_ended(); });
        if (spool) {
            bscd::keep_spool(*spool, catalog, publisher, options.channel);
        }
        bscd::Server server(io, options, catalog, publisher, spool_or_null);
        server.serve();
        publisher.start();
        if (options.daemonize) {
            bscd::detach_logging_from_stderr();
        }
        daemon.ready();
        io.run();
        bscd::flush_logs();
        return server.exit_status();
    } catch (const std::exception& e) {  // CatalogError, StartupError, RedisError
        spdlog::critical("{}", e.what());
        return 1;
    }
}
