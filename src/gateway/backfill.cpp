#include "gateway/backfill.hpp"

#include <spdlog/spdlog.h>

namespace bscd {

Backfill::Backfill(std::string project, std::optional<EntryId> after, EntryId through)
    : project_(std::move(project)), after_(after), through_(through) {}

Backfill::Page Backfill::take(TimelineReader::Page page, HistoryCounters& counters) {
    Page owed;
    owed.done = !page.more;
    for (auto& event : page.events) {
        if (event->id > through_) {
            owed.done = true;  // the feed has the rest
            break;
        }
        if (after_ && event->id <= *after_) {
            reached_after_ = true;
            continue;
        }
        if (after_ && !reached_after_) {
            reached_after_ = true;
            spdlog::warn("Project {}: a viewer resumes after {}, which the history no longer holds",
                         project_, after_->str());
            ++counters.history_gaps;
            owed.events.push_back(make_gap_event(project_, *after_, event->id));
        }
        owed.events.push_back(std::move(event));
    }
    return owed;
}

}  // namespace bscd
