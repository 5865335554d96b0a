#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
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
    std::size_t failed = 0;
};

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
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
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
            const auto before = Clock::now();
            if (spawn_and_wait(program.argv, actions) != 0) {
                ++program.failed;
            }
            program.ms.push_back(seconds_between(before, Clock::now()) * 1e3);
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
        all_ran = all_ran && program.failed == 0;
    }
    out += cpu_report(watched, 0);
    (void)std::printf("%s\n", out.c_str());
    return all_ran ? 0 : 1;
}

}  // namespace bench
