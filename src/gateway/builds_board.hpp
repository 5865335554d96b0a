#pragma once
// The operator's list of builds (GET /builds, /api/v1/builds): the newest
// builds of the index bscd keeps in Redis (bscd-builds), each with where it
// stands and its time left. One board for every operator viewer: the index
// is read at most once per refresh interval however many ask, and a build
// still running is followed through its project's feed (one subscription,
// shared with its page's viewers), so that it is live without polling its
// history. A build that has ended is summarised once and kept. Nobody
// asking for a while: the board lets its feeds go.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "redis/build_registry.hpp"
#include "redis/history_reader.hpp"

namespace bscd {

class ProjectFeed;

class BuildsBoard {
public:
    // Builds listed at most: the newest by start.
    static constexpr std::size_t shown = 100;
    // The index is read again at most this often, however many ask.
    static constexpr auto refresh_interval = std::chrono::seconds(2);
    // The board follows running builds until nobody asked for this long.
    static constexpr auto keep_following = std::chrono::seconds(15);

    using Follow = std::function<std::shared_ptr<ProjectFeed>(const std::string& project)>;
    // `link` makes a build's page link (the gateway adds the project's token).
    using Link = std::function<std::string(const std::string& project)>;
    BuildsBoard(HistoryReader& reader, Follow follow, Link link);
    BuildsBoard(const BuildsBoard&) = delete;
    BuildsBoard& operator=(const BuildsBoard&) = delete;
    ~BuildsBoard();

    // The list as JSON (docs/gateway.md, "The operator's view"), at most
    // refresh_interval old; nullopt when Redis could not be asked.
    void list(std::function<void(std::optional<std::string> json)> done);

    // Every second, from the gateway: lets the feeds go when nobody asked
    // for keep_following.
    void on_tick();

private:
    struct Row;
    void refresh();
    void on_index(const redisReply* reply);
    [[nodiscard]] std::string render();
    // A row as listed now; a build that has ended gets its summary kept.
    nlohmann::ordered_json summarise(Row& row, std::int64_t now_ms);

    HistoryReader& reader_;
    Follow follow_;
    Link link_;
    std::vector<Row> rows_;
    std::vector<std::function<void(std::optional<std::string>)>> waiting_;
    bool reading_ = false;
    std::optional<std::chrono::steady_clock::time_point> read_at_;
    std::chrono::steady_clock::time_point asked_at_{};
    // The board's handlers outlive it in the reader's queue: they check this.
    std::shared_ptr<BuildsBoard*> alive_;
};

}  // namespace bscd
