#pragma once
// What another process (bscd, redis-server) spent during a measurement, from
// /proc: CPU time, so a throughput figure can be read as "CPU per code".

#include <string>
#include <sys/types.h>
#include <vector>

namespace bench {

// user + system CPU seconds consumed so far by `pid` (all its threads);
// negative when /proc/<pid>/stat cannot be read.
double cpu_seconds(pid_t pid);

// Seconds the threads of `pid` spent runnable but waiting for a CPU
// (/proc/<pid>/task/*/schedstat); negative when unknown.
double run_queue_seconds(pid_t pid);

// Processes named on the command line as `--watch NAME=PID`, then this
// process as "load".
struct Watched {
    std::string name;
    pid_t pid = 0;
    double cpu_before = 0;
    double wait_before = 0;
};
std::vector<Watched> parse_watched(const std::vector<std::string>& specs);

// Records the CPU time of each watched process now.
void mark_cpu(std::vector<Watched>& watched);

// " NAME_cpu_s=... NAME_cpu_us_per_code=... NAME_runq_s=..." for each watched
// process since mark_cpu() (per code: divided by `codes`, when it is not 0;
// runq: time it was ready to run but had no CPU, i.e. the machine was the limit).
std::string cpu_report(const std::vector<Watched>& watched, double codes);

}  // namespace bench
