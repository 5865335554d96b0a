#pragma once
// `bsc send [--project P | -a SOCKET] [--timeout SECONDS] REQUEST...`: several
// requests over one connection, each of which bscd must answer OK.

namespace bscd::client {

// argv[0] is "send". Returns the exit status; throws ClientError when a
// request failed.
int run_send_command(int argc, char** argv);

}  // namespace bscd::client
