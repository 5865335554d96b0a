#pragma once
// A real nginx (Debian's) for one test, in front of real bscd-gateway
// processes: run as the test's user, in the foreground, with a private
// prefix (configuration, pid file, logs and temporary files in a temporary
// directory), listening on a free loopback port. Its site is the shipped
// docs/nginx/bscd-gateway.conf itself, included inside a `server` block,
// with an `upstream bscd_gateways` block written here: what the tests run
// is what the docs tell operators to use.

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace bscd::test {

// Where nginx is (found at configure time, else /usr/sbin/nginx).
std::string nginx_executable();
// The shipped locations: docs/nginx/bscd-gateway.conf in the source tree.
std::string shipped_nginx_locations();

struct NginxOptions {
    // The gateways: one `server 127.0.0.1:PORT;` each in the upstream group.
    std::vector<int> upstream_ports;
    // More lines of the upstream group, as the docs' example has them.
    std::vector<std::string> upstream_lines{"keepalive 16;"};
    // The file included in the `server` block.
    std::string locations = shipped_nginx_locations();
    // Per worker; a viewer through the proxy costs two connections.
    int worker_connections = 1024;
    std::chrono::milliseconds start_timeout = std::chrono::seconds(10);
};

class Nginx {
public:
    using Options = NginxOptions;

    // Writes the configuration, starts nginx on a free port and waits until
    // that port accepts connections. Retries on another port when nginx
    // exits at once (the port was taken in between). Throws
    // std::runtime_error, with nginx's output and error log, when it cannot
    // start.
    explicit Nginx(Options options);
    // stop().
    ~Nginx();
    Nginx(const Nginx&) = delete;
    Nginx& operator=(const Nginx&) = delete;

    int port() const { return port_; }
    const std::string& config() const { return config_; }
    // The access log: one line per request, ending with the upstream
    // address(es) nginx tried ("127.0.0.1:P1, 127.0.0.1:P2" after a retry)
    // and their statuses.
    std::string access_log() const;
    // nginx's own output (stderr) and its error log.
    std::string log() const;

    // SIGTERM (fast shutdown: open streams are cut), and wait until the
    // master has exited; past 10 s, SIGKILL to it and its workers. Idempotent.
    void stop();

private:
    bool launch(std::string& failure);  // one attempt on a free port
    std::vector<pid_t> workers() const;

    Options options_;
    TempDir dir_;
    int port_ = 0;
    std::string config_;
    std::optional<Process> process_;
    std::vector<pid_t> workers_;  // seen while it ran, killed if left over
};

}  // namespace bscd::test
