#pragma once
// bsc's commands that read a build's history from Redis:
//   bsc watch PROJECT    replay, then follow live, until the final code
//   bsc history PROJECT  every event with its stage duration
//   bsc status PROJECT   where the build stands

namespace bscd::client {

int run_watch_command(int argc, char** argv);
int run_history_command(int argc, char** argv);
int run_status_command(int argc, char** argv);

}  // namespace bscd::client
