#include "core/project.hpp"

#include <string>
#include <vector>

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

TEST(ProfileName, TheProjectNameRule) {
    for (const std::string name : {"bookworm-arm64", "raspbian-buster-armhf.rpi-3-b", "a"}) {
        EXPECT_TRUE(is_valid_profile_name(name)) << name;
    }
    for (const std::string& name :
         std::vector<std::string>{"", "a..b", "a b", "a/b", "a:b", std::string(129, 'x')}) {
        EXPECT_FALSE(is_valid_profile_name(name)) << '"' << name << '"';
    }
    EXPECT_EQ(profile_name_rule, project_name_rule);
}

TEST(ProfileName, DefaultIsPiemansOsDotDevice) {
    struct Case {
        std::string os;
        std::string device;
        std::string profile;
    };
    const Case cases[] = {
        {"raspbian-buster-armhf", "rpi-3-b", "raspbian-buster-armhf.rpi-3-b"},
        {"ubuntu-jammy-arm64", "rpi-4-b", "ubuntu-jammy-arm64.rpi-4-b"},
        {"a", "b", "a.b"},
        // Either missing: no profile.
        {"", "rpi-3-b", ""},
        {"raspbian-buster-armhf", "", ""},
        {"", "", ""},
        // Characters outside the rule become '_'.
        {"my os", "rpi/3:b", "my_os.rpi_3_b"},
        {"caf\xc3\xa9", "d", "caf__.d"},
        {std::string("a\0b", 3), "d\n", "a_b.d_"},
        // No "..", wherever the dots come from.
        {"os.", "dev", "os._dev"},
        {"os", ".dev", "os._dev"},
        {"a..b", "c...d", "a._b.c._.d"},
        {".", ".", "._."},
        // Cut to 128 characters, after the '.' or before it.
        {std::string(100, 'o'), std::string(100, 'd'),
         std::string(100, 'o') + '.' + std::string(27, 'd')},
        {std::string(200, 'o'), "d", std::string(128, 'o')},
        {std::string(127, 'o'), "d", std::string(127, 'o') + '.'},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE('"' + c.os + "\" \"" + c.device + '"');
        const std::string profile = default_profile(c.os, c.device);
        EXPECT_EQ(profile, c.profile);
        EXPECT_TRUE(profile.empty() || is_valid_profile_name(profile)) << profile;
    }
}

TEST(ProjectName, ChannelIsPiemans) {
    EXPECT_EQ(channel_for_project("demo"), "bscd-demo");
    EXPECT_EQ(channel_for_project("4c8a7e42-6b0f-4b8e-9c1e-2f6a3d5b7e90"),
              "bscd-4c8a7e42-6b0f-4b8e-9c1e-2f6a3d5b7e90");
}

TEST(ProjectName, ProjectForChannelUndoesChannelForProject) {
    EXPECT_EQ(project_for_channel(channel_for_project("demo")), "demo");
    EXPECT_EQ(project_for_channel("bscd-a.b-c"), "a.b-c");
    EXPECT_EQ(project_for_channel("build_status_codes"), "build_status_codes");  // Pieman's
    EXPECT_EQ(project_for_channel("bscd"), "bscd");
}

TEST(ProjectName, HistoryKeyFollowsTheChannel) {
    EXPECT_EQ(history_key("bscd-demo"), "bscd-demo:events");
    EXPECT_EQ(history_key("custom-channel"), "custom-channel:events");
    EXPECT_EQ(history_key(channel_for_project("x")), "bscd-x:events");
}

}  // namespace
}  // namespace bscd
