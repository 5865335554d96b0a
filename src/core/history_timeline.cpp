#include "core/history_timeline.hpp"

namespace bscd {

HistoryTimeline::HistoryTimeline(std::string project, const Catalog& catalog)
    : timeline_(std::move(project), catalog) {}

HistoryTimeline::Taken HistoryTimeline::take(const EntryId& id, const Fields& fields) {
    last_id_ = id;
    Taken taken;
    taken.entry = parse_history_entry(id, fields);
    if (taken.entry) {
        taken.event = timeline_.add(*taken.entry);
    }
    return taken;
}

}  // namespace bscd
