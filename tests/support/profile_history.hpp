#pragma once
// A profile's earlier builds, put in Redis as bscd records them, so that a
// test's build has an estimate without running builds first.

#include <string>
#include <vector>

#include "core/build_record.hpp"
#include "support/redis_server.hpp"

namespace bscd::test {

// Adds successful earlier builds to `profile`'s record (bscd-profile:<name>),
// the first of `builds` the oldest, a day apart and ending before now: each
// its stages' times in order, the success code's last. Fails the test when
// Redis refuses.
void seed_profile(RedisServer& redis, const std::string& profile,
                  const std::vector<std::vector<StageTime>>& builds);

}  // namespace bscd::test
