#pragma once
// bsc's entry point: picks the subcommand and reports failures.

namespace bscd::client {

// `bsc SUBCOMMAND ...` when argv[1] names a subcommand, else Pieman's
// `bsc [-a SOCKET] REQUEST`. Returns the exit status: 0 on success, 1 when
// bscd (or Redis) did not accept, with one "bsc: ..." line on stderr, 2 on
// a usage error.
int run_bsc(int argc, char** argv);

}  // namespace bscd::client
