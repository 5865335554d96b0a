// bscd_load: the load generator of bscd's benchmark (bench/run.sh).
//
//   bscd_load latency    --socket S --channel C [--redis-host H] [--redis-port P]
//                        [--count 2000] [--warmup 100] [--watch NAME=PID]...
//   bscd_load throughput --socket S --channel C --mode connect|connect-ack|pipeline
//                        [--producers 1] [--batch 64] [--seconds 3] [--drain-timeout 10]
//                        [--redis-host H] [--redis-port P] [--watch NAME=PID]...
//   bscd_load spawn      [--count 500] [--labels A,B] [--stdout null|count] [--run-timeout 30]
//                        -- PROGRAM ARGS... [++ PROGRAM ARGS...]
//   bscd_load free-port
//
// Each prints one line of key=value tokens. Redis must be on loopback.

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <netinet/in.h>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

#include "options.hpp"
#include "scenarios.hpp"

namespace bench {

int run_free_port(const Options& options) {
    options.reject_unknown();
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        (void)std::fprintf(stderr, "bscd_load: no free port on 127.0.0.1: %s\n",
                           std::strerror(errno));
        return 1;
    }
    ::close(fd);
    (void)std::printf("%d\n", ntohs(address.sin_port));
    return 0;
}

}  // namespace bench

int main(int argc, char** argv) {
    (void)std::signal(SIGPIPE, SIG_IGN);  // bscd closing on us is reported, not fatal
    if (argc < 2) {
        (void)std::fprintf(stderr,
                           "usage: bscd_load latency|throughput|spawn|free-port [--key value]... "
                           "(see bench/bscd_load.cpp)\n");
        return 2;
    }
    const std::string_view scenario = argv[1];
    try {
        const bench::Options options(argc - 1, argv + 1);
        if (scenario == "latency") {
            return bench::run_latency(options);
        }
        if (scenario == "throughput") {
            return bench::run_throughput(options);
        }
        if (scenario == "spawn") {
            return bench::run_spawn(options);
        }
        if (scenario == "free-port") {
            return bench::run_free_port(options);
        }
        (void)std::fprintf(stderr, "bscd_load: unknown scenario '%s'\n", argv[1]);
        return 2;
    } catch (const bench::UsageError& e) {
        (void)std::fprintf(stderr, "bscd_load %s: %s\n", argv[1], e.what());
        return 2;
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "bscd_load %s: %s\n", argv[1], e.what());
        return 1;
    }
}
