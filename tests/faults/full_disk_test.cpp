// A full disk under bscd's log file: a clear error on stderr (not one per
// line), no crash, every code still published; the log resumes when there
// is room again. (A full disk under the spool: tests/integration/spool_test.)

#include <filesystem>
#include <string>

#include "support/bscd_fixture.hpp"
#include "support/producer_client.hpp"
#include "support/small_filesystem.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"
#include "support/wait.hpp"

namespace bscd::test {
namespace {

using FullDiskTest = BscdTest;

TEST_F(FullDiskTest, LogOnAFullDiskIsReportedOnceAndBscdKeepsServing) {
    if (!SmallFilesystem::available()) {
        GTEST_SKIP() << "mounting a small filesystem needs root";
    }
    SmallFilesystem disk(std::size_t{64} * 1024);
    const std::string log = disk.file("bscd.log");
    auto daemon = start_bscd({"-l", log});
    disk.fill();
    std::string requests;
    std::string oks;
    for (int i = 0; i < 300; ++i) {  // far more log lines than the disk takes
        requests += i % 2 == 0 ? "20\n" : "21\n";
        oks += "OK\n";
    }
    EXPECT_EQ(exchange(socket_path(), requests), oks);
    ASSERT_TRUE(wait_until([&] { return history().size() == 300; })) << daemon->output();
    ASSERT_TRUE(
        wait_until([&] { return occurrences(daemon->output(), "cannot write the log") > 0; }));
    EXPECT_NE(daemon->output().find("No space left on device"), std::string::npos);
    EXPECT_EQ(occurrences(daemon->output(), "cannot write the log"), 1U) << daemon->output();
    EXPECT_TRUE(daemon->running());

    disk.free_up();
    EXPECT_EQ(exchange(socket_path(), "1000\n"), "OK\n");
    EXPECT_TRUE(wait_until([&] {
        return read_file(log).find("Handling 1000") != std::string::npos;
    })) << "the log did not resume";
}

}  // namespace
}  // namespace bscd::test
