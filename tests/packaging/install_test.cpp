// `cmake --install` of this build: every file in place, nothing else (no
// test or benchmark program), the units naming the installed programs, and
// the installed programs running.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "installed_tree.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> programs{"bsc", "bscd", "bscd-gateway"};
const std::vector<std::string> pieman_names{"bsc.py", "bscd.py", "check_redis.py"};

// The page's files, as the gateway embeds them (hidden files are not).
std::vector<std::string> web_files() {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(BSCD_SOURCE_DIR "/share/web")) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && !name.starts_with(".")) {
            files.push_back(name);
        }
    }
    return files;
}

std::vector<std::string> expected_files() {
    std::vector<std::string> files{
        BSCD_INSTALL_DATADIR "/bscd/build_status_codes", BSCD_INSTALL_DATADIR "/bscd/bsc.sh",
        BSCD_INSTALL_UNITDIR "/bscd@.service", BSCD_INSTALL_UNITDIR "/bscd-gateway.service"};
    for (const std::string& program : programs) {
        files.push_back(BSCD_INSTALL_BINDIR "/" + program);
    }
    if (BSCD_PIEMAN_NAMES_BY_DEFAULT) {
        for (const std::string& name : pieman_names) {
            files.push_back(BSCD_INSTALL_BINDIR "/" + name);
        }
    }
    for (const std::string& name : web_files()) {
        files.push_back(BSCD_INSTALL_DATADIR "/bscd/web/" + name);
    }
    std::sort(files.begin(), files.end());
    return files;
}

TEST(Install, PutsEveryFileInPlaceAndNothingElse) {
    const InstalledTree tree;
    EXPECT_EQ(files_under(tree.prefix()), expected_files());
    for (const std::string& program : programs) {
        EXPECT_TRUE(is_executable_file(tree.bin(program))) << program;
    }
    EXPECT_EQ(read_existing_file(tree.data("build_status_codes")),
              read_existing_file(BSCD_SOURCE_DIR "/data/build_status_codes"));
    EXPECT_EQ(read_existing_file(tree.data("bsc.sh")),
              read_existing_file(BSCD_SOURCE_DIR "/share/bscd/bsc.sh"));
    for (const std::string& name : web_files()) {
        EXPECT_EQ(read_existing_file(tree.data("web/" + name)),
                  read_existing_file(BSCD_SOURCE_DIR "/share/web/" + name))
            << name;
    }
}

TEST(Install, UnitsRunTheInstalledPrograms) {
    const InstalledTree tree;
    const std::string bscd_unit = read_existing_file(tree.unit("bscd@.service"));
    EXPECT_EQ(line_with(bscd_unit, "ExecStart="),
              "ExecStart=" + tree.bin("bscd") + " --project %i --runtime-dir /run/bscd $BSCD_OPTS");
    EXPECT_TRUE(line_with(bscd_unit, "RuntimeDirectory=bscd"));
    EXPECT_TRUE(line_with(bscd_unit, "EnvironmentFile=-/etc/default/bscd-%i"));
    const std::string gateway_unit = read_existing_file(tree.unit("bscd-gateway.service"));
    EXPECT_EQ(line_with(gateway_unit, "ExecStart="),
              "ExecStart=" + tree.bin("bscd-gateway") + " $BSCD_GATEWAY_OPTS");
    for (const std::string* unit : {&bscd_unit, &gateway_unit}) {
        EXPECT_EQ(line_with(*unit, "@BSCD"), std::nullopt) << "left unconfigured:\n" << *unit;
    }
}

TEST(Install, DestdirStagesTheTreeForThePrefix) {
    const TempDir stage;
    const RunResult result = cmake_install({"--prefix", "/usr"}, stage.path());
    ASSERT_EQ(result.status, 0) << result.output;
    EXPECT_TRUE(is_executable_file(stage.file("usr/" BSCD_INSTALL_BINDIR "/bscd")));
    EXPECT_TRUE(fs::is_regular_file(stage.file("usr/" BSCD_INSTALL_DATADIR "/bscd/bsc.sh")));
    // The unit names where the program will be, not where it was staged.
    const std::string unit =
        read_existing_file(stage.file("usr/" BSCD_INSTALL_UNITDIR "/bscd@.service"));
    EXPECT_EQ(line_with(unit, "ExecStart="),
              "ExecStart=/usr/" BSCD_INSTALL_BINDIR
              "/bscd --project %i --runtime-dir /run/bscd $BSCD_OPTS");
}

TEST(Install, PiemanComponentInstallsPiemansProgramNames) {
    const TempDir prefix;
    const RunResult result = cmake_install({"--prefix", prefix.path(), "--component", "pieman"});
    ASSERT_EQ(result.status, 0) << result.output;
    const std::vector<std::string> expected{BSCD_INSTALL_BINDIR "/bsc.py",
                                            BSCD_INSTALL_BINDIR "/bscd.py",
                                            BSCD_INSTALL_BINDIR "/check_redis.py"};
    EXPECT_EQ(files_under(prefix.path()), expected);
    for (const std::string& name : pieman_names) {
        const std::string path = prefix.file(BSCD_INSTALL_BINDIR "/" + name);
        EXPECT_TRUE(is_executable_file(path)) << name;
        EXPECT_TRUE(read_existing_file(path).starts_with("#!/usr/bin/python3\n")) << name;
    }
}

TEST(Install, InstalledProgramsRun) {
    const InstalledTree tree;
    for (const std::string& program : programs) {
        const RunResult result = run({tree.bin(program), "--version"});
        EXPECT_EQ(result.status, 0) << program << ": " << result.output;
        EXPECT_NE(result.output.find(BSCD_PROJECT_VERSION), std::string::npos)
            << program << ": " << result.output;
    }
}

// systemd's own check of the installed units (unknown keys, bad values,
// missing programs), when systemd-analyze is there.
TEST(Install, SystemdAcceptsTheUnits) {
    bool analyzer_runs = false;
    try {
        analyzer_runs = run({"systemd-analyze", "--version"}).status == 0;
    } catch (const std::runtime_error&) {  // not found
    }
    if (!analyzer_runs) {
        GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd)";
    }
    const InstalledTree tree;
    // A template is checked through an instance of it.
    const TempDir units;
    fs::copy_file(tree.unit("bscd@.service"), units.file("bscd@demo.service"));
    fs::copy_file(tree.unit("bscd-gateway.service"), units.file("bscd-gateway.service"));
    const RunResult result = run({"systemd-analyze", "verify", units.file("bscd@demo.service"),
                                  units.file("bscd-gateway.service")},
                                 {}, std::chrono::seconds(60));
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_EQ(result.output, "");
}

}  // namespace
}  // namespace bscd::test
