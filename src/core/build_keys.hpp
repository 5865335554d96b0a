#pragma once
// The Redis keys of what bscd keeps about builds beside their history
// streams (docs/gateway.md, "Estimates"; docs/scaling.md on slots).

#include <string>
#include <string_view>

namespace bscd {

// A build's start and profile, a hash beside its history stream:
// "{<channel>:events}:build". The braces make it hash like the stream
// ("<channel>:events"), so one script call may touch both in a cluster.
std::string build_key(std::string_view channel);

// A profile's recent ended builds, a list of BuildRecord JSON, newest
// first: "bscd-profile:<profile>".
std::string profile_key(std::string_view profile);

// The operator's index of builds: a sorted set of project names, scored by
// their start (Unix ms).
inline constexpr std::string_view builds_index_key = "bscd-builds";

}  // namespace bscd
