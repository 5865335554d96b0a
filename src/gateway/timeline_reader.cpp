#include "gateway/timeline_reader.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/project.hpp"

namespace bscd {

TimelineReader::TimelineReader(std::string project, const Catalog& catalog, HistoryReader& reader,
                               HistoryCounters& counters)
    : history_key_(history_key(channel_for_project(project))),
      reader_(reader),
      counters_(counters),
      history_(std::move(project), catalog) {}

bool TimelineReader::read(std::function<void(std::optional<Page>)> done) {
    const bool sent = reader_.read_page(history_key_, history_.last_id(), page_size,
                                        [weak = weak_from_this(), done = std::move(done)](
                                            std::optional<HistoryReader::StreamPage> stored) {
                                            const auto self = weak.lock();
                                            if (!self) {
                                                return;  // its owner went meanwhile
                                            }
                                            if (!stored) {
                                                done(std::nullopt);
                                                return;
                                            }
                                            Page page;
                                            self->take(*stored, page);
                                            done(std::move(page));
                                        });
    if (sent) {
        ++counters_.history_reads;
    }
    return sent;
}

void TimelineReader::take(const HistoryReader::StreamPage& stored, Page& page) {
    page.more = stored.more;
    const auto& last_id = history_.last_id();
    if (stored.entries_lost && last_id && !stored.entries.empty()) {
        spdlog::warn("Project {}: history entries after {} were trimmed before they were read",
                     project(), last_id->str());
        ++counters_.history_gaps;
        page.events.push_back(make_gap_event(project(), *last_id, stored.entries.front().id));
    }
    for (const StreamEntry& entry : stored.entries) {
        ++counters_.entries_received;
        const HistoryTimeline::Taken taken = history_.take(entry.id, entry.fields);
        if (!taken.entry) {
            spdlog::warn("Project {}: skipping malformed history entry {}", project(),
                         entry.id.str());
        } else if (taken.event) {
            page.events.push_back(make_feed_event(taken.event->id, "status", taken.event->to_json(),
                                                  taken.event->final));
        }
        // Otherwise after the final code, or a code this catalog lacks.
    }
}

std::shared_ptr<const FeedEvent> make_gap_event(const std::string& project, const EntryId& after,
                                                const EntryId& next) {
    const nlohmann::ordered_json json{
        {"type", "gap"}, {"project", project}, {"after", after.str()}, {"next", next.str()}};
    // Right after `after`: viewers resuming from `after` get it, and those
    // past it do not.
    return std::make_shared<const FeedEvent>(EntryId{after.ms, after.seq + 1}, "gap", json.dump(),
                                             false, FeedEvent::no_resume);
}

}  // namespace bscd
