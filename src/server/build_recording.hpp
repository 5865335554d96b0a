#pragma once
// bscd's part in estimates: keeps the build's start and profile in Redis
// when it starts, and adds the build to its profile's record once its final
// code is in Redis. Both are short blocking conversations, once per build.
// Neither may stop a build: a Redis user without the keys (an ACL set up
// for an older bscd) gets a warning, and the codes go on as before.

#include <string>

#include "core/build_start.hpp"
#include "redis/build_registry.hpp"
#include "redis/redis_options.hpp"
#include "server/spool.hpp"

namespace bscd {

class BuildRecording {
public:
    BuildRecording(RedisOptions redis, std::string project, std::string channel,
                   BuildRecordSettings settings);

    // At start: the build's start is the spool's when bscd restarts with
    // one (`spool` is null without --spool), else `now`; Redis may keep an
    // earlier one (a restart without a spool), which wins, and the spool
    // learns the one kept, so that a restart finds it. Returns that start,
    // or the one bscd had when Redis cannot keep one. Records the build at
    // once if it has already ended (bscd restarted after the final code).
    BuildStart begin(SyncClient& redis, Spool* spool, const BuildStart& now,
                     std::chrono::milliseconds lifetime);

    // A final code is in Redis: records the build, unless done already. A
    // failure is logged and tried again at the next final code confirmed.
    void build_ended();

private:
    BuildStart keep(SyncClient& redis, const BuildStart& start, std::chrono::milliseconds lifetime);
    void record(SyncClient& redis);

    RedisOptions redis_;
    std::string project_;
    std::string channel_;
    BuildRecordSettings settings_;
    BuildStart start_;
    bool recorded_ = false;
};

}  // namespace bscd
