#pragma once
// A child process for integration tests: started with posix_spawn, its
// stdout and stderr both written to a log file in a private temporary
// directory, so the output can be read at any time, also after it died.

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "support/temp_dir.hpp"

namespace bscd::test {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

class Process {
public:
    // Starts argv[0] (searched in PATH when it has no slash) with argv and the
    // current environment, plus `env` (added, or overriding variables of the
    // same name). Standard input is /dev/null; no other descriptor of the
    // test leaks into the child. Throws std::runtime_error when the program
    // cannot be started.
    explicit Process(const std::vector<std::string>& argv, const EnvVars& env = {});
    // Kills (SIGKILL) the process if it is still running, and reaps it.
    // When the current test has failed, first prints the end of the
    // output and whether the process was still running: CI's log then
    // says what every program of a failed test was doing. (So does a
    // move-assignment, for the process it replaces.)
    ~Process();
    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }

    // True until the process has exited; reaps it (waitpid WNOHANG) and
    // remembers its status once it has.
    bool running();

    // Waits until the process exits: its exit code, or 128 + signal number
    // when a signal killed it. nullopt when it still runs at the deadline.
    std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // The status wait() returned, once the process is known to have exited.
    std::optional<int> exit_code() const { return exit_code_; }

    // Sends `sig`; does nothing once the process has been reaped.
    void signal(int sig);

    // SIGKILL, then reap (blocks until the process is gone).
    void kill();

    // Everything the process wrote to stdout and stderr so far.
    std::string output() const;
    // The file output() reads.
    const std::string& log_path() const { return log_path_; }

private:
    void reap_blocking() noexcept;
    void release() noexcept;
    void report_failed_test() noexcept;

    std::string command_;  // argv joined, for the failure report
    TempDir dir_;
    std::string log_path_;
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
};

struct RunResult {
    int status;          // exit code, 128 + signal, or -1 when killed at the timeout
    std::string output;  // stdout and stderr, interleaved as written
};

// Runs argv to completion; kills it at the timeout (status -1 then).
RunResult run(const std::vector<std::string>& argv, const EnvVars& env = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Where the programs under test are: BSCD_TEST_BIN_DIR from the environment
// when set (so one test build can run sanitized programs of another build
// tree: scripts/test.sh does), else this build tree's bin/ (BSCD_BIN_DIR).
std::string bin_dir();

// Path of a program built by this project: bin_dir() + "/" + name.
std::string bin(const std::string& name);

}  // namespace bscd::test
