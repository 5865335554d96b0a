#pragma once
// Project names and the names derived from them.

#include <string>
#include <string_view>

namespace bscd {

// Letters, digits, '-', '_', '.', 1 to 128 characters, no "..": safe in a
// file name, a Redis key and a URL path. Pieman's default is a UUID.
bool is_valid_project_name(std::string_view name);

// The rule above, for error messages.
inline constexpr std::string_view project_name_rule =
    "letters, digits, '-', '_', '.', at most 128 characters, no '..'";

// A build profile: the kind of build whose timings compare (e.g.
// "bookworm-arm64"), whose earlier builds an estimate learns from. It names
// Redis keys as a project does, hence the same rule.
bool is_valid_profile_name(std::string_view name);
inline constexpr std::string_view profile_name_rule = project_name_rule;

// Pieman's build as a profile, "<os>.<device>" (OS=raspbian-buster-armhf,
// DEVICE=rpi-3-b: "raspbian-buster-armhf.rpi-3-b"), made a valid profile
// name: every other character '_', a '.' after a '.' too, at most 128
// characters. Empty (no profile) when either is empty.
std::string default_profile(std::string_view os, std::string_view device);

// Pieman's live channel for a project: "bscd-<project>".
std::string channel_for_project(std::string_view project);
// Its inverse: the project a channel is for, "<project>" from
// "bscd-<project>"; a channel named otherwise is its own name.
std::string project_for_channel(std::string_view channel);

// The history stream that goes with a live channel: "<channel>:events".
std::string history_key(std::string_view channel);

}  // namespace bscd
