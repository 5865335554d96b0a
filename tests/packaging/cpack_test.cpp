// `cpack -G DEB` makes a Debian package of this build: the programs, the
// shell library, the data and the units under /usr, with the dependencies
// dpkg-shlibdeps found, and no test or benchmark program.

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "installed_tree.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace bscd::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The paths of `dpkg-deb --contents`: the last field of each line.
std::set<std::string> listed_paths(const std::string& listing) {
    std::set<std::string> paths;
    std::istringstream lines(listing);
    for (std::string line; std::getline(lines, line);) {
        paths.insert(line.substr(line.rfind(' ') + 1));
    }
    return paths;
}

TEST(DebianPackage, HoldsTheInstalledTreeUnderUsr) {
    const TempDir out;
    // Built outside the build directory: nothing of it left behind there.
    const std::string config = BSCD_BUILD_DIR "/CPackConfig.cmake";
    const RunResult packed =
        run({BSCD_CPACK_COMMAND, "-G", "DEB", "--config", config, "-B", out.path()}, {}, 120s);
    ASSERT_EQ(packed.status, 0) << packed.output;
    std::vector<std::string> debs;
    for (const auto& entry : fs::directory_iterator(out.path())) {
        if (entry.path().extension() == ".deb") {
            debs.push_back(entry.path().string());
        }
    }
    ASSERT_EQ(debs.size(), 1U) << packed.output;
    const std::string& deb = debs.front();
    EXPECT_TRUE(fs::path(deb).filename().string().starts_with("bscd_" BSCD_PROJECT_VERSION "_"))
        << deb;

    const RunResult listing = run({"dpkg-deb", "--contents", deb});
    ASSERT_EQ(listing.status, 0) << listing.output;
    const std::set<std::string> paths = listed_paths(listing.output);
    for (const char* path :
         {"./usr/" BSCD_INSTALL_BINDIR "/bscd", "./usr/" BSCD_INSTALL_BINDIR "/bsc",
          "./usr/" BSCD_INSTALL_BINDIR "/bscd-gateway",
          "./usr/" BSCD_INSTALL_DATADIR "/bscd/bsc.sh",
          "./usr/" BSCD_INSTALL_DATADIR "/bscd/build_status_codes",
          "./usr/" BSCD_INSTALL_DATADIR "/bscd/web/index.html",
          "./usr/" BSCD_INSTALL_UNITDIR "/bscd@.service",
          "./usr/" BSCD_INSTALL_UNITDIR "/bscd-gateway.service"}) {
        EXPECT_TRUE(paths.contains(path)) << path << " not in\n" << listing.output;
    }
    for (const char* test_program :
         {"unit_tests", "integration_tests", "packaging_tests", "bscd_load", "gateway_fanout"}) {
        EXPECT_EQ(listing.output.find(test_program), std::string::npos) << test_program;
    }

    const RunResult depends = run({"dpkg-deb", "--field", deb, "Depends"});
    EXPECT_NE(depends.output.find("libc6"), std::string::npos) << depends.output;
    EXPECT_NE(depends.output.find("libhiredis"), std::string::npos) << depends.output;

    const TempDir root;
    const RunResult extracted = run({"dpkg-deb", "--extract", deb, root.path()});
    ASSERT_EQ(extracted.status, 0) << extracted.output;
    EXPECT_EQ(
        line_with(read_file(root.file("usr/" BSCD_INSTALL_UNITDIR "/bscd@.service")), "ExecStart="),
        "ExecStart=/usr/" BSCD_INSTALL_BINDIR
        "/bscd --project %i --runtime-dir /run/bscd $BSCD_OPTS");
}

}  // namespace
}  // namespace bscd::test
