#pragma once
// What a build's history stream holds, as the tests compare it.

#include <string>
#include <vector>

namespace bscd::test {

class RedisServer;

// The `code` field of every entry of `channel`:events, oldest first.
std::vector<std::string> history_codes(RedisServer& redis, const std::string& channel);

}  // namespace bscd::test
