// The example image build (examples/debian-image/build.sh) run for real, as
// root, against a private redis-server: the codes a Pieman consumer sees on
// the channel and in the history stream, the image it makes (checked without
// mounting it), and that nothing stays mounted or running afterwards.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <sys/mount.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/history_codes.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/subscriber.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Codes = std::vector<std::string>;

const std::string build_script = std::string(BSCD_SOURCE_DIR) + "/examples/debian-image/build.sh";

// Mount points at or below `dir`, deepest first.
std::vector<std::string> mounts_under(const std::string& dir) {
    std::vector<std::string> points;
    std::ifstream mounts("/proc/mounts");
    std::string line;
    while (std::getline(mounts, line)) {
        std::istringstream fields(line);
        std::string device;
        std::string point;
        fields >> device >> point;
        if (point == dir || point.starts_with(dir + "/")) {
            points.push_back(point);
        }
    }
    std::sort(points.rbegin(), points.rend());
    return points;
}

// SIGKILLs every process whose root directory is at or below `dir` (package
// scripts of a build that was itself killed).
void kill_processes_rooted_in(const std::string& dir) {
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            continue;
        }
        std::error_code error;
        const std::string root = fs::read_symlink(entry.path() / "root", error);
        if (!error && (root == dir || root.starts_with(dir + "/"))) {
            ::kill(std::stoi(name), SIGKILL);
        }
    }
}

struct Partition {
    std::uint64_t start = 0;  // 512-byte sectors
    std::uint64_t size = 0;
    std::string type;
    bool bootable = false;
};

struct Build {
    int status = -1;  // exit status; -1 when killed at the deadline
    std::string output;
    std::chrono::seconds took{0};
};

class ImageBuildTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "the image build needs root (debootstrap, chroot, mount)";
        }
        redis_ = std::make_unique<RedisServer>();
        work_ = std::make_unique<TempDir>();
        // Unique across concurrent runs: the temporary directory's suffix.
        project_ = "image-test-" + fs::path(work_->path()).filename().string().substr(10);
    }

    // Whatever the build left (it was killed, or it failed to clean up) is
    // stopped and unmounted here, before the temporary directory is removed:
    // removing it through a bind mount of /dev would empty the host's.
    void TearDown() override {
        if (!work_) {
            return;
        }
        if (build_ && build_->running()) {
            stop_build_group();
        }
        kill_processes_rooted_in(work_->path());
        stop_leftover_bscd();
        for (const std::string& point : mounts_under(work_->path())) {
            ::umount2(point.c_str(), MNT_DETACH);
        }
        if (!mounts_under(work_->path()).empty()) {
            ADD_FAILURE() << "still mounted below " << work_->path() << ": left in place";
            static_cast<void>(work_.release());  // never remove_all through a mount
        }
    }

    std::string channel() const { return "bscd-" + project_; }
    std::string build_dir() const { return work_->file("build"); }
    std::string image() const { return build_dir() + "/" + project_ + ".img"; }
    std::string pid_file() const { return work_->file("bscd-" + project_ + ".pid"); }
    std::string socket_file() const { return work_->file("bscd-" + project_ + ".sock"); }

    // Runs build.sh with the channel on, every parameter at its default but
    // those in `params` (MIRROR is passed through from the environment).
    Build run_build(const std::map<std::string, std::string>& params,
                    std::chrono::milliseconds timeout) {
        std::map<std::string, std::string> env{
            {"PROJECT_NAME", project_},
            {"BUILD_DIR", build_dir()},
            {"ENABLE_BSC_CHANNEL", "true"},
            {"REDIS_HOST", redis_->host()},
            {"REDIS_PORT", std::to_string(redis_->port())},
            {"BSCD_BIN_DIR", BSCD_BIN_DIR},
            {"BSCD_RUNTIME_DIR", work_->path()},
            {"PACKAGE_CACHE", BSCD_PACKAGE_CACHE},
            {"BSC_LIBRARY", ""},  // the source tree's share/bscd/bsc.sh
        };
        for (const char* name : {"SUITE", "ARCH", "LOCALE", "TIME_ZONE", "INCLUDES", "KERNEL",
                                 "HOST_NAME", "PASSWORD", "USER_NAME", "USER_PASSWORD", "BOOT_SIZE",
                                 "ROOT_FREE_SPACE", "CREATE_ONLY_CHROOT", "KEEP_CHROOT"}) {
            env.emplace(name, "");
        }
        for (const auto& [name, value] : params) {
            env[name] = value;
        }
        const auto started = std::chrono::steady_clock::now();
        // Its own process group (setsid execs it, no fork), to stop its
        // children too at the deadline.
        build_.emplace(std::vector<std::string>{"setsid", build_script},
                       EnvVars(env.begin(), env.end()));
        Build result;
        if (const auto status = build_->wait(timeout)) {
            result.status = *status;
        } else {
            stop_build_group();
        }
        result.took = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::steady_clock::now() - started);
        result.output = build_->output();
        RecordProperty("build_seconds", static_cast<int>(result.took.count()));
        std::cout << "build.sh took " << result.took.count() << " s\n";
        return result;
    }

    // The codes in the history stream, oldest first.
    Codes history() { return history_codes(*redis_, channel()); }

    // The build is over: bscd stopped, nothing of the build mounted.
    void expect_left_nothing_behind() {
        EXPECT_EQ(mounts_under(work_->path()), std::vector<std::string>{});
        EXPECT_FALSE(fs::exists(pid_file())) << "bscd still running";
        EXPECT_FALSE(fs::exists(socket_file()));
    }

    std::unique_ptr<RedisServer> redis_;
    std::unique_ptr<TempDir> work_;
    std::string project_;

private:
    // SIGTERM to the build's process group (its EXIT trap cleans up once the
    // running tool returns), SIGKILL to what is left after a minute.
    void stop_build_group() {
        const pid_t group = build_->pid();
        ::kill(-group, SIGTERM);
        if (!build_->wait(60s)) {
            ::kill(-group, SIGKILL);
            build_->kill();
        }
        ::kill(-group, SIGKILL);
    }

    void stop_leftover_bscd() {
        std::ifstream in(pid_file());
        pid_t pid = 0;
        if (in >> pid && pid > 1) {
            ::kill(pid, SIGTERM);
            wait_until([&] { return ::kill(pid, 0) != 0; }, 10s);
        }
    }

    std::optional<Process> build_;
};

// Partitions of the image's table, from sfdisk --json.
std::vector<Partition> partitions(const std::string& image) {
    const RunResult table = run({"sfdisk", "--json", image});
    EXPECT_EQ(table.status, 0) << table.output;
    std::vector<Partition> result;
    const auto json = nlohmann::json::parse(table.output, nullptr, false);
    if (json.is_discarded()) {
        ADD_FAILURE() << "sfdisk --json: " << table.output;
        return result;
    }
    for (const auto& p : json["partitiontable"]["partitions"]) {
        result.push_back({p["start"].get<std::uint64_t>(), p["size"].get<std::uint64_t>(),
                          p["type"].get<std::string>(), p.value("bootable", false)});
    }
    return result;
}

// What a path holds in the ext4 file system at `offset` bytes of `image`
// (debugfs opens it in place: e2fsprogs' "file?offset=" syntax).
std::string debugfs(const std::string& image, std::uint64_t offset, const std::string& request) {
    const RunResult result =
        run({"debugfs", "-R", request, image + "?offset=" + std::to_string(offset)});
    EXPECT_EQ(result.status, 0) << request << ": " << result.output;
    return result.output;
}

RunResult mtools(const std::string& tool, const std::string& image, std::uint64_t offset,
                 const std::string& path) {
    return run({tool, "-i", image + "@@" + std::to_string(offset), path},
               {{"MTOOLS_SKIP_CHECK", "1"}});
}

std::string first_match(const std::string& text, const std::string& pattern) {
    std::smatch match;
    if (std::regex_search(text, match, std::regex(pattern))) {
        return match[1];
    }
    return {};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST_F(ImageBuildTest, ChrootOnlyReportsPreparedThenSuccess) {
    Subscriber subscriber(*redis_, channel());
    const Build build = run_build({{"CREATE_ONLY_CHROOT", "true"}}, 5min);
    ASSERT_EQ(build.status, 0) << build.output;
    // bscd delivered everything before it answered EXIT.
    EXPECT_EQ(subscriber.collect(2, 10s), (Codes{"10", "1000"}));
    EXPECT_EQ(subscriber.next_after_own_sentinel(*redis_), Subscriber::own_sentinel);
    EXPECT_EQ(history(), (Codes{"10", "1000"}));
    expect_left_nothing_behind();
    // The result is the chroot, kept; no image.
    EXPECT_TRUE(fs::exists(build_dir() + "/chroot/etc/debian_version"));
    EXPECT_TRUE(fs::exists(build_dir() + "/chroot/usr/bin/apt-get"));
    EXPECT_FALSE(fs::exists(image()));
}

TEST_F(ImageBuildTest, FullBuildReportsEveryStageAndMakesABootableLayout) {
    Subscriber subscriber(*redis_, channel());
    const Build build = run_build({{"INCLUDES", "less"}}, 10min);
    ASSERT_EQ(build.status, 0) << build.output;
    const Codes every_stage{"10", "20", "21", "30", "31", "32", "33",  "40",
                            "50", "60", "70", "80", "81", "82", "1000"};
    EXPECT_EQ(subscriber.collect(every_stage.size(), 10s), every_stage);
    EXPECT_EQ(subscriber.next_after_own_sentinel(*redis_), Subscriber::own_sentinel);
    EXPECT_EQ(history(), every_stage);
    expect_left_nothing_behind();
    // The image stays; the chroot and the boot staging directory went.
    EXPECT_FALSE(fs::exists(build_dir() + "/chroot"));
    EXPECT_FALSE(fs::exists(build_dir() + "/boot"));

    // A DOS table: a bootable FAT32 (LBA) partition, then a Linux one.
    const std::vector<Partition> table = partitions(image());
    ASSERT_EQ(table.size(), 2U);
    EXPECT_EQ(table[0].type, "c");
    EXPECT_TRUE(table[0].bootable);
    EXPECT_EQ(table[1].type, "83");
    EXPECT_FALSE(table[1].bootable);
    EXPECT_GE(table[1].start, table[0].start + table[0].size);
    EXPECT_LE((table[1].start + table[1].size) * 512, fs::file_size(image()));
    const std::uint64_t boot_offset = table[0].start * 512;
    const std::uint64_t root_offset = table[1].start * 512;

    // The boot partition, copied out for fsck.fat (which takes no offset).
    const std::string boot_copy = work_->file("boot.vfat");
    const RunResult copy =
        run({"dd", "if=" + image(), "of=" + boot_copy, "bs=1M", "iflag=skip_bytes,count_bytes",
             "skip=" + std::to_string(boot_offset), "count=" + std::to_string(table[0].size * 512),
             "status=none"},
            {}, 60s);
    ASSERT_EQ(copy.status, 0) << copy.output;
    const RunResult fat_check = run({"fsck.fat", "-n", boot_copy}, {}, 60s);
    EXPECT_EQ(fat_check.status, 0) << fat_check.output;
    fs::remove(boot_copy);

    const RunResult root_check =
        run({"e2fsck", "-fn", image() + "?offset=" + std::to_string(root_offset)}, {}, 120s);
    EXPECT_EQ(root_check.status, 0) << root_check.output;

    // The boot partition holds the kernel, its initrd, and a boot
    // configuration naming the root file system by its UUID.
    const RunResult boot_files = mtools("mdir", image(), boot_offset, "::/");
    ASSERT_EQ(boot_files.status, 0) << boot_files.output;
    const std::string version = first_match(boot_files.output, R"(vmlinuz-(\S+))");
    ASSERT_FALSE(version.empty()) << boot_files.output;
    EXPECT_TRUE(contains(boot_files.output, "initrd.img-" + version)) << boot_files.output;
    const RunResult extlinux = mtools("mtype", image(), boot_offset, "::/extlinux/extlinux.conf");
    ASSERT_EQ(extlinux.status, 0) << extlinux.output;
    const RunResult superblock =
        run({"dumpe2fs", "-h", image() + "?offset=" + std::to_string(root_offset)});
    const std::string root_uuid = first_match(superblock.output, R"(Filesystem UUID:\s+(\S+))");
    ASSERT_FALSE(root_uuid.empty()) << superblock.output;
    EXPECT_TRUE(contains(extlinux.output, "root=UUID=" + root_uuid)) << extlinux.output;
    EXPECT_TRUE(contains(extlinux.output, "KERNEL /vmlinuz-" + version)) << extlinux.output;

    // The root file system: every stage's work, synced.
    EXPECT_TRUE(contains(debugfs(image(), root_offset, "cat /etc/hostname"), "debian\n"));
    EXPECT_TRUE(contains(debugfs(image(), root_offset, "ls /usr/lib/modules"), version));
    EXPECT_TRUE(contains(debugfs(image(), root_offset, "stat /usr/bin/less"), "Type: regular"));
    EXPECT_TRUE(contains(debugfs(image(), root_offset, "cat /etc/fstab"), "UUID=" + root_uuid));
    EXPECT_TRUE(
        contains(debugfs(image(), root_offset, "cat /etc/default/locale"), "LANG=en_US.UTF-8"));
    EXPECT_TRUE(contains(debugfs(image(), root_offset, "cat /etc/timezone"), "Etc/UTC"));
    EXPECT_TRUE(contains(debugfs(image(), root_offset, "ls /etc/systemd/network"), ".network"));
    // Cleaned up: no package indexes.
    EXPECT_FALSE(contains(debugfs(image(), root_offset, "ls /var/lib/apt/lists"), "Packages"));
}

TEST_F(ImageBuildTest, FailingStageReportsFailureAndCleansUp) {
    Subscriber subscriber(*redis_, channel());
    const Build build = run_build({{"INCLUDES", "bscd-test-no-such-package"}}, 5min);
    // A failed build, not a refused one (2: bad parameters, nothing sent).
    EXPECT_NE(build.status, 0) << build.output;
    EXPECT_NE(build.status, 2) << build.output;
    EXPECT_NE(build.status, -1) << "killed at the deadline:\n" << build.output;
    const Codes until_failure{"10", "20", "21", "30", "1001"};
    EXPECT_EQ(subscriber.collect(until_failure.size(), 10s), until_failure);
    EXPECT_EQ(subscriber.next_after_own_sentinel(*redis_), Subscriber::own_sentinel);
    EXPECT_EQ(history(), until_failure);
    expect_left_nothing_behind();
    // The chroot is gone; the log stays, and says why.
    EXPECT_FALSE(fs::exists(build_dir() + "/chroot"));
    EXPECT_FALSE(fs::exists(image()));
    const std::string text = read_file(build_dir() + "/build.log");
    EXPECT_TRUE(contains(text, "Unable to locate package bscd-test-no-such-package")) << text;
}

TEST_F(ImageBuildTest, BadParameterIsRefusedBeforeAnythingStarts) {
    const Build build = run_build({{"HOST_NAME", "not a host name"}}, 60s);
    EXPECT_EQ(build.status, 2) << build.output;
    EXPECT_TRUE(contains(build.output, "HOST_NAME")) << build.output;
    // Nothing was started nor created, nothing was sent.
    EXPECT_FALSE(fs::exists(build_dir()));
    EXPECT_FALSE(fs::exists(work_->file("bscd-" + project_ + ".log")));
    EXPECT_EQ(redis_->command({"EXISTS", channel() + ":events"}).integer, 0);
}

TEST_F(ImageBuildTest, UnreachableArchiveIsRefusedBeforeAnythingStarts) {
    // Port 9 (discard) on loopback: nothing listens there.
    const Build build = run_build({{"MIRROR", "http://127.0.0.1:9/debian"}}, 60s);
    EXPECT_EQ(build.status, 2) << build.output;
    EXPECT_TRUE(contains(build.output, "cannot reach the Debian archive")) << build.output;
    EXPECT_FALSE(fs::exists(build_dir()));
    EXPECT_EQ(redis_->command({"EXISTS", channel() + ":events"}).integer, 0);
}

TEST_F(ImageBuildTest, NonRootIsRefusedBeforeAnythingStarts) {
    // The same script as nobody: refused with its reason, before the channel.
    const RunResult result =
        run({"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", build_script},
            {{"PROJECT_NAME", project_},
             {"BUILD_DIR", build_dir()},
             {"ENABLE_BSC_CHANNEL", "true"},
             {"REDIS_PORT", std::to_string(redis_->port())},
             {"BSCD_BIN_DIR", BSCD_BIN_DIR},
             {"BSCD_RUNTIME_DIR", work_->path()}},
            60s);
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_TRUE(contains(result.output, "run as root")) << result.output;
    EXPECT_FALSE(fs::exists(build_dir()));
    EXPECT_EQ(redis_->command({"EXISTS", channel() + ":events"}).integer, 0);
}

}  // namespace
}  // namespace bscd::test
