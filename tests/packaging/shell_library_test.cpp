// The installed shell library, sourced from <prefix>/share/bscd/bsc.sh with
// no BSCD_BIN_DIR and no bscd in PATH: it runs the programs installed next
// to it (../../bin), which report a build's codes through a real Redis.

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "installed_tree.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;

// $1: prefix, $2: Redis port, $3: runtime directory. Records the daemon's pid
// and program while it runs.
constexpr const char* build_script = R"(set -euo pipefail
unset BSCD_BIN_DIR
export PATH=/usr/bin:/bin
. "$1/share/bscd/bsc.sh"
ENABLE_BSC_CHANNEL=true REDIS_HOST=127.0.0.1 REDIS_PORT=$2
PROJECT_NAME=pkg BSCD_RUNTIME_DIR=$3
check_redis
start_bscd
pid=$(cat "$3/bscd-pkg.pid")
printf '%s\n' "$pid" >"$3/daemon.pid"
readlink "/proc/$pid/exe" >"$3/daemon.exe"
send_request_to_bsc_server PREPARED_CHROOT_ENV_CODE
send_request_to_bsc_server 82
send_request_to_bsc_server SUCCESSFUL_CODE
stop_bscd
)";

TEST(InstalledShellLibrary, ReportsABuildWithTheInstalledPrograms) {
    const RedisServer redis;
    const InstalledTree tree;
    const TempDir run_dir;
    Daemons daemons(tree.bin("bscd"));
    daemons.watch(run_dir.file("bscd-pkg.pid"));
    Subscriber live(redis, "bscd-pkg");

    const RunResult build = run({"bash", "-c", build_script, "build", tree.prefix(),
                                 std::to_string(redis.port()), run_dir.path()});
    EXPECT_EQ(build.status, 0) << build.output;
    EXPECT_EQ(build.output.find("warning"), std::string::npos) << build.output;
    EXPECT_EQ(live.collect(3), (std::vector<std::string>{"10", "82", "1000"}));

    EXPECT_EQ(read_existing_file(run_dir.file("daemon.exe")),
              fs::weakly_canonical(tree.bin("bscd")).string() + "\n");
    const pid_t pid = daemons.read_pid(run_dir.file("daemon.pid"));
    EXPECT_TRUE(wait_until([pid] { return !alive(pid); })) << "bscd (pid " << pid << ") still runs";
    EXPECT_FALSE(fs::exists(run_dir.file("bscd-pkg.pid")));
    EXPECT_FALSE(fs::exists(run_dir.file("bscd-pkg.sock")));
}

}  // namespace
}  // namespace bscd::test
