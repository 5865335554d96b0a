#include "core/project.hpp"

#include <string>

#include <gtest/gtest.h>

namespace bscd {
namespace {

TEST(ProjectName, Valid) {
    const std::string valid[] = {
        "demo",
        "a",
        "0",
        "my-project_1.2",
        "Raspberry-Pi-4",
        "4c8a7e42-6b0f-4b8e-9c1e-2f6a3d5b7e90",  // Pieman's default is a UUID
        ".hidden",
        "a.b.c",
        "trailing.",
        "-",
        "_",
        std::string(128, 'x'),
    };
    for (const std::string& name : valid) {
        EXPECT_TRUE(is_valid_project_name(name)) << name;
    }
}

TEST(ProjectName, Invalid) {
    const std::string invalid[] = {
        "",
        std::string(129, 'x'),
        "..",
        "a..b",
        "../etc",
        "a/b",
        "/abs",
        "a b",
        " demo",
        "demo ",
        "demo\n",
        "demo:events",
        "demo*",
        "a?b",
        "caf\xc3\xa9",
        std::string("a\0b", 3),
        "a\\b",
        "%2e%2e",
    };
    for (const std::string& name : invalid) {
        EXPECT_FALSE(is_valid_project_name(name)) << '"' << name << '"';
    }
}

TEST(ProjectName, ChannelIsPiemans) {
    EXPECT_EQ(channel_for_project("demo"), "bscd-demo");
    EXPECT_EQ(channel_for_project("4c8a7e42-6b0f-4b8e-9c1e-2f6a3d5b7e90"),
              "bscd-4c8a7e42-6b0f-4b8e-9c1e-2f6a3d5b7e90");
}

TEST(ProjectName, HistoryKeyFollowsTheChannel) {
    EXPECT_EQ(history_key("bscd-demo"), "bscd-demo:events");
    EXPECT_EQ(history_key("custom-channel"), "custom-channel:events");
    EXPECT_EQ(history_key(channel_for_project("x")), "bscd-x:events");
}

}  // namespace
}  // namespace bscd
