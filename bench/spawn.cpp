#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "process_stats.hpp"
#include "scenarios.hpp"
#include "stats.hpp"

extern char** environ;

namespace bench {

namespace {

// One of the programs compared, with its measurements.
struct Program {
    std::string label;
    std::vector<std::string> args;
    std::vector<char*> argv;
    std::vector<double> ms;
    std::vector<std::size_t> lines;  // --stdout count: lines printed by each run
    std::size_t failed = 0;
};

// Waits for `pid`; returns 0 when it exited with status 0, else -1.
int wait_exit(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

// Starts `argv` with stdout and stderr on /dev/null and waits for it.
// Returns its exit status, or -1 when it could not run or was killed.
int spawn_and_wait(const std::vector<char*>& argv, const posix_spawn_file_actions_t& actions) {
    pid_t pid = 0;
    const int error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    if (error != 0) {
        (void)std::fprintf(stderr, "bscd_load: cannot start %s: %s\n", argv[0],
                           std::strerror(error));
        return -1;
    }
    return wait_exit(pid);
}

// Starts `argv` with stdout on a pipe and stderr on /dev/null, reads the pipe
// to its end counting lines (as `| wc -l` would), then waits for it. A run
// that has not closed its stdout after `timeout` is killed. Returns its exit
// status as spawn_and_wait() does.
int spawn_counting_lines(const std::vector<char*>& argv, std::chrono::milliseconds timeout,
                         std::size_t& lines) {
    lines = 0;
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        (void)std::fprintf(stderr, "bscd_load: pipe: %s\n", std::strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (error != 0) {
        ::close(pipe_fds[0]);
        (void)std::fprintf(stderr, "bscd_load: cannot start %s: %s\n", argv[0],
                           std::strerror(error));
        return -1;
    }
    const auto deadline = Clock::now() + timeout;
    bool timed_out = false;
    char buffer[65536];
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd ready{pipe_fds[0], POLLIN, 0};
        const int polled = left.count() > 0 ? ::poll(&ready, 1, static_cast<int>(left.count())) : 0;
        if (polled < 0 && errno == EINTR) {
            continue;
        }
        if (polled <= 0) {
            timed_out = polled == 0;
            break;
        }
        const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;  // end of its output (or a read error)
        }
        lines += static_cast<std::size_t>(std::count(buffer, buffer + got, '\n'));
    }
    ::close(pipe_fds[0]);
    if (timed_out) {
        (void)std::fprintf(stderr, "bscd_load: %s still running after %lld ms, killed\n", argv[0],
                           static_cast<long long>(timeout.count()));
        (void)::kill(pid, SIGKILL);
    }
    const int status = wait_exit(pid);
    return timed_out ? -1 : status;
}

// The command line after `--`: programs separated by `++`, labelled by
// --labels (comma-separated) or by their path.
std::vector<Program> parse_programs(const std::vector<std::string>& command,
                                    const std::string& labels) {
    std::vector<Program> programs(1);
    for (const std::string& arg : command) {
        if (arg == "++") {
            programs.emplace_back();
        } else {
            programs.back().args.push_back(arg);
        }
    }
    std::size_t start = 0;
    for (Program& program : programs) {
        if (program.args.empty()) {
            throw UsageError("spawn needs a command after -- (and after each ++)");
        }
        const auto comma = labels.find(',', start);
        program.label =
            start < labels.size() ? labels.substr(start, comma - start) : program.args[0];
        start = comma == std::string::npos ? labels.size() : comma + 1;
        for (std::string& arg : program.args) {
            program.argv.push_back(arg.data());
        }
        program.argv.push_back(nullptr);
    }
    return programs;
}

}  // namespace

int run_spawn(const Options& options) {
    const auto count = static_cast<std::size_t>(options.integer("count", 500, 1, 100'000));
    const std::string labels = options.text("labels", "");
    // null: stdout to /dev/null; count: read it and count the lines of each run.
    const std::string output = options.text("stdout", "null");
    if (output != "null" && output != "count") {
        throw UsageError("--stdout must be null or count");
    }
    const bool count_lines = output == "count";
    const std::chrono::milliseconds run_timeout(
        static_cast<long>(options.real("run-timeout", 30, 0.1, 600) * 1e3));
    auto watched = parse_watched(options.all("watch"));
    options.reject_unknown();
    std::vector<Program> programs = parse_programs(options.command(), labels);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);

    // Round robin, so that the machine's noise falls on every program alike.
    mark_cpu(watched);
    for (std::size_t i = 0; i < count; ++i) {
        for (Program& program : programs) {
            std::size_t lines = 0;
            const auto before = Clock::now();
            const int status = count_lines ? spawn_counting_lines(program.argv, run_timeout, lines)
                                           : spawn_and_wait(program.argv, actions);
            program.ms.push_back(seconds_between(before, Clock::now()) * 1e3);
            if (status != 0) {
                ++program.failed;
            }
            if (count_lines) {
                program.lines.push_back(lines);
            }
        }
        if (i + 1 >= 10 && std::any_of(programs.begin(), programs.end(),
                                       [i](const Program& p) { return p.failed == i + 1; })) {
            break;  // one never works: no point in going on
        }
    }
    posix_spawn_file_actions_destroy(&actions);

    std::string out = "spawn n=" + std::to_string(programs.front().ms.size());
    bool all_ran = true;
    for (Program& program : programs) {
        std::sort(program.ms.begin(), program.ms.end());
        double total = 0;
        for (double ms : program.ms) {
            total += ms;
        }
        const std::string& l = program.label;
        out += " " + l + "_failed=" + std::to_string(program.failed);
        out += " " + l + "_mean_ms=" + fixed(total / static_cast<double>(program.ms.size()), 3);
        out += " " + l + "_p50_ms=" + fixed(quantile(program.ms, 0.5), 3);
        out += " " + l + "_p90_ms=" + fixed(quantile(program.ms, 0.9), 3);
        out += " " + l + "_p99_ms=" + fixed(quantile(program.ms, 0.99), 3);
        out += " " + l + "_max_ms=" + fixed(quantile(program.ms, 1.0), 3);
        if (count_lines) {
            const auto [fewest, most] =
                std::minmax_element(program.lines.begin(), program.lines.end());
            out += " " + l + "_lines_min=" + std::to_string(*fewest);
            out += " " + l + "_lines_max=" + std::to_string(*most);
        }
        all_ran = all_ran && program.failed == 0;
    }
    out += cpu_report(watched, 0);
    (void)std::printf("%s\n", out.c_str());
    return all_ran ? 0 : 1;
}

}  // namespace bench
