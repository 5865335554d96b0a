#pragma once
// The measurements bscd_load runs, one per file. Each reads its options,
// runs, prints one line of `key=value` tokens on stdout (the first token
// names the scenario) and returns the exit status: 0 when it could measure,
// even if the figure is bad; 1 when it could not (bscd unreachable, codes lost).

#include "options.hpp"

namespace bench {

// (a) One code at a time over one connection: write -> "OK" (ack) and
// write -> message seen by a Redis subscriber (delivered).
int run_latency(const Options& options);

// (b) N producers for a fixed time, one connection per code (Pieman's
// client) or persistent pipelined connections; counts what the subscriber
// received, i.e. delivered throughput.
int run_throughput(const Options& options);

// (c) Runs programs N times each in sequence, taking turns (posix_spawn +
// waitpid): the cost of one process per code next to a trivial process's.
// With `--stdout count`, reads each run's output to its end and reports the
// fewest and most lines a run printed ((g): a late watcher's replay).
int run_spawn(const Options& options);

// A free TCP port on 127.0.0.1, for the private redis-server.
int run_free_port(const Options& options);

}  // namespace bench
