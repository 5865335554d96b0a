#pragma once
// gateway_fanout's other two modes (bench/run.sh, section (h)); the default
// one, N viewers of one project, is in gateway_fanout.cpp.

namespace bench {

class Options;

// --mode floor: what the kernel needs, with no gateway. One thread writes
// the same SSE frame to N connected loopback sockets, round after round;
// the receiving ends are in a child process (the two together would need
// 2N descriptors in one process). Prints the writer thread's CPU per socket
// and the time until the last socket had the frame (the kernel's receive
// time, SO_TIMESTAMPNS, in the child).
int run_floor(const Options& options);

// --mode projects: P projects with V viewers each, and codes written to
// Redis as bscd writes them (the history script's EVALSHA) at a fixed rate
// spread over the projects. Prints the write-to-viewer latency, the
// gateway's CPU per code and memory per project, and the Redis commands
// per code (INFO commandstats, before and after).
int run_projects(const Options& options);

}  // namespace bench
