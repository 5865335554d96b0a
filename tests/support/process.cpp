#include "support/process.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <set>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

extern char** environ;

namespace bscd::test {
namespace {

std::vector<std::string> merged_environment(const EnvVars& overrides) {
    std::set<std::string> names;
    for (const auto& [name, value] : overrides) {
        names.insert(name);
    }
    std::vector<std::string> result;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        std::string item(*entry);
        const auto eq = item.find('=');
        if (!names.contains(item.substr(0, eq))) {
            result.push_back(std::move(item));
        }
    }
    for (const auto& [name, value] : overrides) {
        result.emplace_back(name).append("=").append(value);
    }
    return result;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> result;
    result.reserve(strings.size() + 1);
    for (auto& s : strings) {
        result.push_back(s.data());
    }
    result.push_back(nullptr);
    return result;
}

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

// RAII for the posix_spawn attribute objects.
struct SpawnSetup {
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attr{};
    SpawnSetup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
    }
    ~SpawnSetup() {
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&actions);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

void check(int rc, const char* what) {
    if (rc != 0) {
        throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
    }
}

}  // namespace

Process::Process(const std::vector<std::string>& argv, const EnvVars& env)
    : log_path_(dir_.file("output.log")) {
    if (argv.empty()) {
        throw std::invalid_argument("Process: empty argv");
    }
    for (const auto& arg : argv) {
        command_ += (command_.empty() ? "" : " ") + arg;
    }
    std::vector<std::string> args = argv;
    std::vector<std::string> environment = merged_environment(env);
    std::vector<char*> c_args = c_strings(args);
    std::vector<char*> c_env = c_strings(environment);

    SpawnSetup setup;
    check(posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0),
          "posix_spawn_file_actions_addopen");
    check(posix_spawn_file_actions_addopen(&setup.actions, STDOUT_FILENO, log_path_.c_str(),
                                           O_WRONLY | O_CREAT | O_APPEND, 0600),
          "posix_spawn_file_actions_addopen");
    check(posix_spawn_file_actions_adddup2(&setup.actions, STDOUT_FILENO, STDERR_FILENO),
          "posix_spawn_file_actions_adddup2");
    // Sockets of the test (hiredis connections, proxies) must not stay open
    // in children: a peer would never see them close.
    check(posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1),
          "posix_spawn_file_actions_addclosefrom_np");

    // Default dispositions and an empty mask, whatever the test runner set
    // (an ignored SIGPIPE would otherwise be inherited across exec).
    sigset_t all;
    sigset_t none;
    sigfillset(&all);
    sigemptyset(&none);
    check(posix_spawnattr_setsigdefault(&setup.attr, &all), "posix_spawnattr_setsigdefault");
    check(posix_spawnattr_setsigmask(&setup.attr, &none), "posix_spawnattr_setsigmask");
    check(posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK),
          "posix_spawnattr_setflags");

    pid_t pid = -1;
    const int rc =
        posix_spawnp(&pid, c_args[0], &setup.actions, &setup.attr, c_args.data(), c_env.data());
    if (rc != 0) {
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    pid_ = pid;
}

Process::~Process() {
    release();
}

Process::Process(Process&& other) noexcept
    : command_(std::move(other.command_)),
      dir_(std::move(other.dir_)),
      log_path_(std::move(other.log_path_)),
      pid_(std::exchange(other.pid_, -1)),
      exit_code_(std::exchange(other.exit_code_, std::nullopt)) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        release();
        command_ = std::move(other.command_);
        dir_ = std::move(other.dir_);
        log_path_ = std::move(other.log_path_);
        pid_ = std::exchange(other.pid_, -1);
        exit_code_ = std::exchange(other.exit_code_, std::nullopt);
    }
    return *this;
}

void Process::release() noexcept {
    if (::testing::Test::HasFailure()) {
        report_failed_test();
    }
    if (pid_ > 0 && !exit_code_) {
        ::kill(pid_, SIGKILL);
        reap_blocking();
    }
}

void Process::report_failed_test() noexcept {
    if (pid_ <= 0) {
        return;  // moved from
    }
    constexpr std::size_t shown = 16'384;  // the end says how it stopped
    try {
        const std::string state =
            running() ? "still running" : "exited with status " + std::to_string(*exit_code_);
        std::string text = output();
        if (text.size() > shown) {
            text = "[...]" + text.substr(text.size() - shown);
        }
        std::cerr << "---- the test failed; the output of " << command_ << " (pid " << pid_ << ", "
                  << state << "):\n"
                  << text << "---- end of the output of pid " << pid_ << "\n";
    } catch (const std::exception& e) {
        std::cerr << "---- the test failed; the output of pid " << pid_
                  << " cannot be read: " << e.what() << "\n";
    }
}

void Process::reap_blocking() noexcept {
    int status = 0;
    pid_t rc;
    do {
        rc = ::waitpid(pid_, &status, 0);
    } while (rc < 0 && errno == EINTR);
    exit_code_ = rc == pid_ ? decode_status(status) : -1;
}

bool Process::running() {
    if (pid_ <= 0 || exit_code_) {
        return false;
    }
    int status = 0;
    pid_t rc;
    do {
        rc = ::waitpid(pid_, &status, WNOHANG);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        return true;
    }
    // rc < 0 (ECHILD): someone else reaped it; it is gone either way.
    exit_code_ = rc == pid_ ? decode_status(status) : -1;
    return false;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return exit_code_;
}

void Process::signal(int sig) {
    if (pid_ > 0 && !exit_code_) {
        ::kill(pid_, sig);
    }
}

void Process::kill() {
    if (pid_ > 0 && !exit_code_) {
        ::kill(pid_, SIGKILL);
        reap_blocking();
    }
}

std::string Process::output() const {
    return read_file(log_path_);
}

RunResult run(const std::vector<std::string>& argv, const EnvVars& env,
              std::chrono::milliseconds timeout) {
    Process process(argv, env);
    const auto status = process.wait(timeout);
    if (!status) {
        process.kill();
        return {-1, process.output()};
    }
    return {*status, process.output()};
}

std::string bin_dir() {
    const char* chosen = std::getenv("BSCD_TEST_BIN_DIR");
    return chosen != nullptr && *chosen != '\0' ? chosen : BSCD_BIN_DIR;
}

std::string bin(const std::string& name) {
    return bin_dir() + "/" + name;
}

}  // namespace bscd::test
