#include "gateway/builds_board.hpp"

#include <nlohmann/json.hpp>

#include "core/build_event.hpp"
#include "core/build_keys.hpp"
#include "core/estimate.hpp"
#include "core/unix_ms.hpp"
#include "gateway/project_feed.hpp"
#include "gateway/viewer.hpp"

namespace bscd {
namespace {

// The board as one more viewer of a project's feed: it keeps the feed (and
// its subscription) open and reads its state, but takes no events.
class BoardWatch final : public Viewer {
public:
    explicit BoardWatch(std::shared_ptr<ProjectFeed> feed)
        : Viewer(std::move(feed), std::nullopt, 1) {}
    void on_feed_changed() override {}  // the board reads the feed when asked
    [[nodiscard]] const ProjectFeed& followed() const { return feed(); }
};

}  // namespace

// A listed build: followed while it runs, its summary kept once it ended.
struct BuildsBoard::Row {
    ListedBuild build;
    std::unique_ptr<BoardWatch> watch;
    std::optional<nlohmann::ordered_json> ended;
};

BuildsBoard::BuildsBoard(HistoryReader& reader, Follow follow, Link link)
    : reader_(reader),
      follow_(std::move(follow)),
      link_(std::move(link)),
      alive_(std::make_shared<BuildsBoard*>(this)) {}

BuildsBoard::~BuildsBoard() {
    *alive_ = nullptr;
}

void BuildsBoard::list(std::function<void(std::optional<std::string>)> done) {
    const auto now = std::chrono::steady_clock::now();
    asked_at_ = now;
    if (read_at_ && now - *read_at_ < refresh_interval) {
        done(render());
        return;
    }
    waiting_.push_back(std::move(done));
    refresh();
}

void BuildsBoard::refresh() {
    if (reading_) {
        return;  // the read in flight answers everyone waiting
    }
    reading_ = reader_.read(std::string(builds_index_key), newest_builds_command(shown),
                            [alive = alive_](const redisReply* reply) {
                                if (*alive != nullptr) {
                                    (*alive)->on_index(reply);
                                }
                            });
    if (!reading_) {
        on_index(nullptr);  // no link now
    }
}

void BuildsBoard::on_index(const redisReply* reply) {
    reading_ = false;
    auto waiting = std::move(waiting_);
    waiting_.clear();
    if (reply == nullptr) {
        for (auto& done : waiting) {
            done(std::nullopt);
        }
        return;
    }
    read_at_ = std::chrono::steady_clock::now();
    std::vector<Row> rows;
    for (ListedBuild& build : parse_builds_index(*reply)) {
        Row row;
        // A build listed before keeps its row (its feed, or its summary).
        for (Row& old : rows_) {
            if (old.build.project == build.project && old.build.started_ms == build.started_ms) {
                row = std::move(old);
                break;
            }
        }
        row.build = std::move(build);
        if (!row.ended && !row.watch) {
            row.watch = std::make_unique<BoardWatch>(follow_(row.build.project));
        }
        rows.push_back(std::move(row));
    }
    rows_ = std::move(rows);  // rows no longer listed let their feeds go here
    const std::string json = render();
    for (auto& done : waiting) {
        done(json);
    }
}

void BuildsBoard::on_tick() {
    if (std::chrono::steady_clock::now() - asked_at_ < keep_following) {
        return;
    }
    for (Row& row : rows_) {
        row.watch.reset();  // followed again when next asked
    }
    read_at_.reset();
}

nlohmann::ordered_json BuildsBoard::summarise(Row& row, std::int64_t now_ms) {
    if (row.ended) {
        return *row.ended;
    }
    const auto listed = [&row](const char* state) {
        return nlohmann::ordered_json{{"project", row.build.project},
                                      {"build_started", iso8601_utc(row.build.started_ms)},
                                      {"state", state}};
    };
    const ProjectFeed* feed = row.watch ? &row.watch->followed() : nullptr;
    if (feed == nullptr || !feed->ready() || feed->estimate().reading()) {
        return listed("reading");
    }
    const ProjectEstimate& estimate = feed->estimate();
    if (feed->empty() && !estimate.start()) {
        row.ended = listed("expired");  // listed, but its history and start are gone
    } else if (feed->finished()) {
        row.ended = build_summary(feed->timeline(), estimate.start(),
                                  estimate.at(feed->timeline(), now_ms));
    } else {
        return build_summary(feed->timeline(), estimate.start(),
                             estimate.at(feed->timeline(), now_ms));
    }
    row.watch.reset();  // it has ended: nothing more to follow
    return *row.ended;
}

std::string BuildsBoard::render() {
    const std::int64_t now_ms = unix_ms_now();
    auto builds = nlohmann::ordered_json::array();
    std::size_t running = 0;
    for (Row& row : rows_) {
        nlohmann::ordered_json summary = summarise(row, now_ms);
        if (summary["state"] == "running" || summary["state"] == "waiting") {
            ++running;
        }
        summary["page"] = link_(row.build.project);
        builds.push_back(std::move(summary));
    }
    nlohmann::ordered_json list;
    list["now"] = iso8601_utc(now_ms);
    list["running"] = running;
    list["builds"] = std::move(builds);
    return list.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace bscd
