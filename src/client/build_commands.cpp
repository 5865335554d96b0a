#include "client/build_commands.hpp"

#include <csignal>
#include <cstdio>
#include <functional>
#include <string>
#include <unistd.h>

#include "client/build_outlook.hpp"
#include "client/client_error.hpp"
#include "client/command_line.hpp"
#include "client/history_follower.hpp"
#include "client/live_follower.hpp"
#include "client/terminal_view.hpp"
#include "common/catalog_file.hpp"
#include "common/cli_options.hpp"
#include "core/build_event.hpp"
#include "core/build_keys.hpp"
#include "core/catalog.hpp"
#include "core/estimate.hpp"
#include "core/history_timeline.hpp"
#include "core/project.hpp"

namespace bscd::client {
namespace {

// Exit statuses of watch: the build's outcome, or "could not tell".
constexpr int exit_succeeded = 0;
constexpr int exit_failed = 1;
constexpr int exit_unknown = 2;

// Which build, where: shared by the three commands.
struct BuildSelection {
    std::string project;
    std::string channel;
    std::string codes_file;
    RedisOptions redis;
    bool json = false;

    void add_to(CLI::App& app) {
        app.add_option("project", project, "the build's project name (PROJECT_NAME)")
            ->envname("PROJECT_NAME");
        app.add_option("--channel", channel,
                       "the live channel instead of a project: its history is <channel>:events");
        app.add_option("--codes", codes_file, "build status codes file, as given to bscd")
            ->check(CLI::ExistingFile);
        app.add_flag("--json", json,
                     "one event JSON per line (docs/architecture.md, \"The event JSON\")");
        add_redis_options(app, redis);
    }

    // Fills channel from project or the other way round.
    void resolve() {
        if (project.empty() && channel.empty()) {
            throw ClientError("name a project (or --channel)", ClientError::usage);
        }
        if (!project.empty() && !is_valid_project_name(project)) {
            throw ClientError("invalid project name: " + std::string(project_name_rule),
                              ClientError::usage);
        }
        if (channel.empty()) {
            channel = channel_for_project(project);
        } else if (project.empty()) {
            project = project_for_channel(channel);
        }
    }

    [[nodiscard]] Catalog catalog() const {
        try {
            return codes_file.empty() ? Catalog::builtin() : read_catalog_file(codes_file);
        } catch (const CatalogError& error) {
            throw ClientError(error.what(), ClientError::usage);
        }
    }
};

// One line for people (not a terminal, or `bsc history`).
std::string plain_line(const BuildEvent& event, std::optional<std::int64_t> duration_ms) {
    std::string line = iso8601_utc(event.ts_ms) + "  " + std::to_string(event.code->value) + "  " +
                       event.code->name + "  " + std::to_string(event.progress) + "%";
    if (!event.code->description.empty()) {
        line += "  " + event.code->description;
    }
    if (duration_ms) {
        line += "  (" + format_duration(*duration_ms) + ")";
    }
    return line;
}

// The event JSON with the stage's duration added as its last member,
// "duration_ms" (null for the first code: the build's start is unknown).
std::string with_duration(std::string event_json, std::optional<std::int64_t> duration_ms) {
    event_json.pop_back();  // the closing brace
    return event_json + ",\"duration_ms\":" +
           (duration_ms ? std::to_string(*duration_ms) : std::string("null")) + "}";
}

std::string outcome_line(const BuildTimeline& timeline) {
    const auto& progress = timeline.progress();
    const auto total = progress.updated_ms().value_or(0) - progress.started_ms().value_or(0);
    if (progress.succeeded()) {
        return "build succeeded: 100%, " + format_duration(total) +
               " from the first code to the last";
    }
    std::string line = "build FAILED";
    if (const StatusCode* stage = progress.furthest_stage()) {
        line += " after " + stage->name + " (" + std::to_string(progress.percent()) + "%)";
    }
    return line + ", " + format_duration(total) + " from the first code to the last";
}

void print(const std::string& line) {
    (void)std::fwrite(line.data(), 1, line.size(), stdout);
    (void)std::fputc('\n', stdout);
    (void)std::fflush(stdout);
}

// The whole stored history of the build, into `history`; each event, with
// its stage's time, to `on_stage` as well. Throws ClientError when Redis
// cannot be read or the build has no history.
void load_history(const BuildSelection& selection, HistoryTimeline& history,
                  const std::function<void(const BuildTimeline::Stage&)>& on_stage = {}) {
    try {
        HistoryFollower follower(selection.redis, history_key(selection.channel));
        for (const StreamEntry& stored : follower.read_all()) {
            if (history.take(stored.id, stored.fields).event && on_stage) {
                on_stage(*history.timeline().last_stage());
            }
        }
    } catch (const RedisError& error) {
        throw ClientError(error.what());
    }
    if (history.timeline().empty()) {
        throw ClientError("no history for " + selection.project + " (" +
                          history_key(selection.channel) + ")");
    }
}

// bsc watch off a terminal: after the codes that came together, the
// estimate and the stages to come, each when it says something new (a
// first build's word once, not after every code); between codes, only a
// change of pace. Line by line, nothing per second.
class PlainOutlook {
public:
    // A code was printed: its outlook is due.
    void code_printed() { due_ = true; }

    void show(const BuildOutlook& outlook) {
        const Estimate& e = outlook.estimate;
        if (!outlook.start || outlook.start->profile.empty() ||
            e.basis == EstimateBasis::finished) {
            return;  // nothing to estimate from: the output stays as without profiles
        }
        const bool pace_news =
            e.pace != pace_ && (e.pace == Pace::slower || e.pace == Pace::stalled);
        if (!due_ && !pace_news) {
            return;
        }
        pace_ = e.pace;
        const std::string line = estimate_line(outlook);
        if (line != estimate_ || pace_news) {
            print("  estimate  " + line);
            estimate_ = line;
        }
        if (due_ && e.builds > 0) {
            const std::string to_come = stages_to_come(e);
            if (to_come != to_come_) {
                print("  to come   " + to_come);
                to_come_ = to_come;
            }
        }
        due_ = false;
    }

private:
    bool due_ = false;
    Pace pace_ = Pace::unknown;
    std::string estimate_;
    std::string to_come_;
};

int outcome_status(const BuildTimeline& timeline) {
    const auto& progress = timeline.progress();
    if (!progress.finished()) {
        return exit_unknown;
    }
    return progress.succeeded() ? exit_succeeded : exit_failed;
}

}  // namespace

int run_watch_command(int argc, char** argv) {
    CLI::App app(
        "Shows a build's progress: its history first, then each code as it comes, until the "
        "final code; with the time left and the stages to come when earlier builds of its "
        "profile (bscd --profile) taught them. Exit status 0 after success (1000), 1 after "
        "failure, 2 on error or timeout.",
        "bsc watch");
    BuildSelection selection;
    selection.add_to(app);
    bool live = false;
    app.add_flag("--live", live,
                 "plain pub/sub, for a publisher that keeps no history (Pieman's bscd.py, "
                 "bscd --no-history): only codes published from now on are seen");
    double timeout_seconds = 0;
    app.add_option("--timeout", timeout_seconds,
                   "give up after this many seconds (exit status 2) [default: wait]")
        ->check(CLI::NonNegativeNumber);
    if (auto status = parse_command_line(app, argc, argv)) {
        return *status;
    }
    (void)std::signal(SIGPIPE, SIG_IGN);
    try {
        selection.resolve();
        const Catalog catalog = selection.catalog();
        HistoryTimeline history(selection.project, catalog);
        const BuildTimeline& timeline = history.timeline();
        std::optional<HistoryFollower::Clock::time_point> deadline;
        if (timeout_seconds > 0) {
            deadline = HistoryFollower::Clock::now() + to_timeout(timeout_seconds);
        }
        std::optional<TerminalView> view;  // a person watching: redraw in place
        if (!selection.json && isatty(STDOUT_FILENO) != 0) {
            view.emplace(STDOUT_FILENO);
        }
        // The time left and the stages to come, for people: --json stays the
        // events alone, and --live has no build start to estimate from.
        std::optional<WatchOutlook> outlook;
        if (!selection.json && !live) {
            outlook.emplace(selection.redis, selection.project, selection.channel, catalog);
        }
        PlainOutlook plain;
        const auto note = [&](HistoryFollower::Clock::time_point at) {
            ProgressNote shown;
            if (outlook) {
                if (const auto now = outlook->at(timeline, at)) {
                    shown = progress_note(*now);
                }
                shown.now_ms = outlook->now_ms(at);
            }
            return shown;
        };
        const auto on_entry = [&](const StreamEntry& stored) {
            const HistoryTimeline::Taken taken = history.take(stored.id, stored.fields);
            if (!taken.entry) {
                return true;  // not written by bscd: skip
            }
            const auto at = HistoryFollower::Clock::now();
            if (outlook) {
                outlook->code_arrived(taken.entry->ts_ms, at);
            }
            if (const auto& event = taken.event) {
                const auto& stage = *timeline.last_stage();
                if (view) {
                    view->add(stage, timeline.progress(), note(at));
                } else {
                    print(selection.json ? event->to_json()
                                         : plain_line(*event, stage.duration_ms));
                    plain.code_printed();
                }
            }
            return !timeline.progress().finished();
        };
        const auto on_tick = [&] {
            const auto at = HistoryFollower::Clock::now();
            if (outlook) {
                outlook->begin(at);
            }
            if (timeline.empty()) {
                return;
            }
            if (view) {
                view->redraw(timeline.progress(), note(at));
            } else if (outlook) {
                if (const auto now = outlook->at(timeline, at)) {
                    plain.show(*now);
                }
            }
        };
        const bool ended = live ? LiveFollower(selection.redis, selection.channel)
                                      .follow(on_entry, deadline, on_tick)
                                : HistoryFollower(selection.redis, history_key(selection.channel))
                                      .follow({}, on_entry, deadline, on_tick);
        if (!ended) {
            const std::string why =
                "no final code within " + std::to_string(timeout_seconds) + " s";
            if (view) {
                view->finish("stopped watching: " + why);
            }
            throw ClientError(why, exit_unknown);
        }
        if (view) {
            view->finish(outcome_line(timeline));
        } else if (!selection.json) {
            print(outcome_line(timeline));
        }
        return outcome_status(timeline);
    } catch (const RedisError& error) {
        throw ClientError(error.what(), exit_unknown);
    }
}

int run_history_command(int argc, char** argv) {
    CLI::App app("Prints every event of a build's history with its stage duration.", "bsc history");
    BuildSelection selection;
    selection.add_to(app);
    if (auto status = parse_command_line(app, argc, argv)) {
        return *status;
    }
    (void)std::signal(SIGPIPE, SIG_IGN);
    selection.resolve();
    const Catalog catalog = selection.catalog();
    HistoryTimeline history(selection.project, catalog);
    load_history(selection, history, [&](const BuildTimeline::Stage& stage) {
        print(selection.json ? with_duration(stage.event.to_json(), stage.duration_ms)
                             : plain_line(stage.event, stage.duration_ms));
    });
    return 0;
}

int run_status_command(int argc, char** argv) {
    CLI::App app("Prints where a build stands: last code, progress, start, last update, outcome.",
                 "bsc status");
    BuildSelection selection;
    selection.add_to(app);
    if (auto status = parse_command_line(app, argc, argv)) {
        return *status;
    }
    (void)std::signal(SIGPIPE, SIG_IGN);
    selection.resolve();
    const Catalog catalog = selection.catalog();
    HistoryTimeline history(selection.project, catalog);
    load_history(selection, history);
    const BuildTimeline& timeline = history.timeline();
    const auto& last = timeline.last_stage()->event;
    const BuildOutlook now =
        outlook(selection.redis, selection.project, selection.channel, catalog, timeline);
    if (selection.json) {
        print(timeline.state_json(now.start, &now.estimate));
        return 0;
    }
    const auto& progress = timeline.progress();
    print("project   " + selection.project);
    print("last code " + std::to_string(last.code->value) + " " + last.code->name + " (" +
          last.code->description + ")");
    print("progress  " + std::to_string(progress.percent()) + "%, stage " +
          std::to_string(progress.stages_done()) + " of " +
          std::to_string(progress.total_stages()));
    print("started   " + iso8601_utc(progress.started_ms().value_or(0)));
    print("updated   " + iso8601_utc(progress.updated_ms().value_or(0)));
    print("state     " + std::string(progress.succeeded() ? "succeeded"
                                     : progress.failed()  ? "failed"
                                                          : "in progress"));
    if (!progress.finished()) {
        print("estimate  " + estimate_line(now));
        print("to come   " + stages_to_come(now.estimate));
    }
    return 0;
}

}  // namespace bscd::client
