#include "gateway/builds_board.hpp"

#include <variant>

#include <nlohmann/json.hpp>

#include "core/build_event.hpp"
#include "core/build_keys.hpp"
#include "core/estimate.hpp"
#include "core/unix_ms.hpp"
#include "gateway/project_feed.hpp"

namespace bscd {

// The board holding a project's feed (and its subscription) open, as one
// more follower of it; the board reads the feed's state when asked. (Not in
// an anonymous namespace: BuildsBoard::Row holds one.)
class FeedHold {
public:
    explicit FeedHold(std::shared_ptr<ProjectFeed> feed)
        : feed_(std::move(feed)), watch_(std::make_shared<Watch>()) {
        feed_->attach(watch_);
    }
    FeedHold(const FeedHold&) = delete;
    FeedHold& operator=(const FeedHold&) = delete;
    ~FeedHold() { feed_->detach(*watch_); }
    [[nodiscard]] const ProjectFeed& followed() const { return *feed_; }

private:
    struct Watch final : FeedFollower {
        void on_feed_changed(const ProjectFeed& /*feed*/) override {}
    };
    std::shared_ptr<ProjectFeed> feed_;
    std::shared_ptr<Watch> watch_;
};

// A listed build. Its life in the board: followed while it may change
// (Following), its summary kept once it has ended (Ended); let go when
// nobody has asked for a while (Unfollowed), followed again when asked.
struct BuildsBoard::Row {
    struct Unfollowed {};
    struct Following {
        std::unique_ptr<FeedHold> hold;
    };
    struct Ended {
        nlohmann::ordered_json summary;
    };

    ListedBuild build;
    std::variant<Unfollowed, Following, Ended> state;
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
        if (std::holds_alternative<Row::Unfollowed>(row.state)) {
            row.state = Row::Following{std::make_unique<FeedHold>(follow_(row.build.project))};
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
        if (std::holds_alternative<Row::Following>(row.state)) {
            row.state = Row::Unfollowed{};  // followed again when next asked
        }
    }
    read_at_.reset();
}

nlohmann::ordered_json BuildsBoard::summarise(Row& row, std::int64_t now_ms) {
    if (const auto* ended = std::get_if<Row::Ended>(&row.state)) {
        return ended->summary;
    }
    const auto listed = [&row](const char* state) {
        return nlohmann::ordered_json{{"project", row.build.project},
                                      {"build_started", iso8601_utc(row.build.started_ms)},
                                      {"state", state}};
    };
    const auto* following = std::get_if<Row::Following>(&row.state);
    const ProjectFeed* feed = following != nullptr ? &following->hold->followed() : nullptr;
    if (feed == nullptr || !feed->ready() || feed->estimate().reading()) {
        return listed("reading");
    }
    const ProjectEstimate& estimate = feed->estimate();
    if (feed->empty() && !estimate.start()) {
        row.state = Row::Ended{listed("expired")};  // listed, but its history and start are gone
    } else if (feed->finished()) {
        row.state = Row::Ended{build_summary(feed->timeline(), estimate.start(),
                                             estimate.at(feed->timeline(), now_ms))};
    } else {
        return build_summary(feed->timeline(), estimate.start(),
                             estimate.at(feed->timeline(), now_ms));
    }
    return std::get<Row::Ended>(row.state).summary;  // nothing more to follow: its feed goes
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
