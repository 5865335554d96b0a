#include "support/history_codes.hpp"

#include "support/redis_server.hpp"

namespace bscd::test {

std::vector<std::string> history_codes(RedisServer& redis, const std::string& channel) {
    std::vector<std::string> codes;
    const Reply entries = redis.command({"XRANGE", channel + ":events", "-", "+"});
    for (const Reply& entry : entries.elements) {
        const auto& fields = entry.elements.at(1).elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
            if (fields[i].str == "code") {
                codes.push_back(fields[i + 1].str);
            }
        }
    }
    return codes;
}

}  // namespace bscd::test
