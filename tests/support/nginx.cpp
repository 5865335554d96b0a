#include "support/nginx.hpp"

#include <cerrno>
#include <csignal>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using namespace std::chrono_literals;

// Answered by nginx itself (the shipped locations have nothing that
// specific): nginx serves, whatever the upstreams do.
constexpr const char* ready_path = "/.nginx-ready";

// `user NAME GROUP;` when nginx starts as root (its workers would otherwise
// run as nobody, who may not enter the private prefix); nothing otherwise,
// as nginx then runs its workers as the user who started it.
std::string user_directive() {
    if (::geteuid() != 0) {
        return {};
    }
    const passwd* user = ::getpwuid(::geteuid());
    const group* group = ::getgrgid(::getegid());
    if (user == nullptr || group == nullptr) {
        throw std::runtime_error("nginx: no name for the test's own user or group");
    }
    return std::string("user ") + user->pw_name + " " + group->gr_name + ";\n";
}

}  // namespace

std::string nginx_executable() {
    return NGINX_BIN;
}

std::string shipped_nginx_locations() {
    return BSCD_NGINX_LOCATIONS;
}

Nginx::Nginx(Options options) : options_(std::move(options)) {
    if (::access(nginx_executable().c_str(), X_OK) != 0) {
        throw std::runtime_error("nginx: " + nginx_executable() +
                                 " is missing; scripts/install-deps.sh --tests installs it");
    }
    std::string failures;
    for (int attempt = 1; attempt <= 3; ++attempt) {
        std::string failure;
        if (launch(failure)) {
            return;
        }
        failures += "attempt " + std::to_string(attempt) + ": " + failure + "\n";
    }
    throw std::runtime_error("nginx did not start:\n" + failures + "configuration:\n" + config_);
}

Nginx::~Nginx() {
    stop();
}

bool Nginx::launch(std::string& failure) {
    port_ = free_port();
    std::ostringstream conf;
    conf << user_directive() << "daemon off;\n"
         << "worker_processes 1;\n"
         << "worker_rlimit_nofile " << 2 * options_.worker_connections + 64 << ";\n"
         << "pid " << dir_.file("nginx.pid") << ";\n"
         << "error_log " << dir_.file("error.log") << " info;\n"
         << "events { worker_connections " << options_.worker_connections << "; }\n"
         << "http {\n"
         << "    log_format upstreams '$request_method $request_uri $status "
            "upstream=$upstream_addr upstream_status=$upstream_status';\n"
         << "    access_log " << dir_.file("access.log") << " upstreams;\n";
    for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
        conf << "    " << temp << "_temp_path " << dir_.file(std::string(temp) + "_temp") << ";\n";
    }
    conf << "    upstream bscd_gateways {\n";
    for (const int upstream : options_.upstream_ports) {
        conf << "        server 127.0.0.1:" << upstream << ";\n";
    }
    for (const auto& line : options_.upstream_lines) {
        conf << "        " << line << "\n";
    }
    conf << "    }\n"
         << "    server {\n"
         << "        listen 127.0.0.1:" << port_ << ";\n"
         << "        server_name localhost;\n"
         << "        location = " << ready_path << " { return 204; }\n"
         << "        include " << options_.locations << ";\n"
         << "    }\n"
         << "}\n";
    config_ = conf.str();
    const std::string conf_path = dir_.file("nginx.conf");
    {
        std::ofstream file(conf_path, std::ios::trunc);
        file << config_;
        if (!file.flush()) {
            throw std::runtime_error("nginx: cannot write " + conf_path);
        }
    }
    process_.reset();
    process_.emplace(std::vector<std::string>{nginx_executable(), "-p", dir_.path() + "/", "-c",
                                              conf_path, "-e", dir_.file("error.log")});
    const bool up = wait_until(
        [&] {
            return !process_->running() || http_get(port_, ready_path, {}, 500ms).status == 204;
        },
        options_.start_timeout);
    if (up && process_->running()) {
        workers_ = workers();
        return true;
    }
    failure = "port " + std::to_string(port_) + ", " +
              (process_->running() ? "no answer" : "exited") + ":\n" + log();
    stop();
    return false;
}

std::vector<pid_t> Nginx::workers() const {
    std::vector<pid_t> pids;
    if (!process_) {
        return pids;
    }
    const std::string pid = std::to_string(process_->pid());
    std::istringstream children(read_file("/proc/" + pid + "/task/" + pid + "/children"));
    pid_t child = 0;
    while (children >> child) {
        pids.push_back(child);
    }
    return pids;
}

std::string Nginx::access_log() const {
    return read_file(dir_.file("access.log"));
}

std::string Nginx::log() const {
    return (process_ ? process_->output() : std::string()) + read_file(dir_.file("error.log"));
}

void Nginx::stop() {
    if (!process_) {
        return;
    }
    for (const pid_t worker : workers()) {  // respawned ones too
        workers_.push_back(worker);
    }
    process_->signal(SIGTERM);
    if (!process_->wait(10s)) {
        process_->kill();
    }
    // The master waits for its workers on a fast shutdown; one killed
    // leaves them behind.
    for (const pid_t worker : workers_) {
        // Only while that pid is still an nginx (not reused since).
        if (read_file("/proc/" + std::to_string(worker) + "/comm") == "nginx\n") {
            ::kill(worker, SIGKILL);
        }
    }
    workers_.clear();
    process_.reset();
}

}  // namespace bscd::test
