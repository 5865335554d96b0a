#include "core/progress.hpp"

namespace bscd {

// Decisions the header leaves open:
// - A code is looked up in this progress's catalog by value, and the pointers
//   kept (furthest_stage(), last_code()) are the catalog's own entries, valid
//   as long as the catalog is. A code the catalog lacks is ignored entirely,
//   like a code after a final one: it changes neither progress nor times.
// - A stage's number is its 1-based position among the catalog's stage codes
//   (values below 1000), so that stages_done() <= total_stages() and percent()
//   stays in 0..100 even if a custom catalog lists a final code between stages.
// - A catalog without stage codes gives 0 % until success.

BuildProgress::BuildProgress(const Catalog& catalog) : catalog_(catalog) {}

void BuildProgress::record(const StatusCode& code, std::int64_t ts_ms) {
    if (finished()) {
        return;
    }
    const StatusCode* known = nullptr;
    std::size_t stage = 0;  // 1-based among stage codes; 0 for a final code
    for (const StatusCode& c : catalog_.codes()) {
        if (!c.is_final()) {
            ++stage;
        }
        if (c.value == code.value) {
            known = &c;
            break;
        }
    }
    if (known == nullptr) {
        return;
    }
    if (!started_ms_) {
        started_ms_ = ts_ms;
    }
    updated_ms_ = ts_ms;
    last_ = known;
    if (!known->is_final() && stage > stages_done_) {
        stages_done_ = stage;
        furthest_ = known;
    }
}

int BuildProgress::percent() const {
    if (succeeded()) {
        return 100;
    }
    const std::size_t total = total_stages();
    if (total == 0) {
        return 0;
    }
    return static_cast<int>(100 * stages_done_ / total);
}

std::size_t BuildProgress::total_stages() const {
    std::size_t total = 0;
    for (const StatusCode& c : catalog_.codes()) {
        if (!c.is_final()) {
            ++total;
        }
    }
    return total;
}

std::size_t BuildProgress::stages_done() const {
    return stages_done_;
}

const StatusCode* BuildProgress::furthest_stage() const {
    return furthest_;
}

const StatusCode* BuildProgress::last_code() const {
    return last_;
}

bool BuildProgress::finished() const {
    return last_ != nullptr && last_->is_final();
}

bool BuildProgress::succeeded() const {
    return last_ != nullptr && last_->is_success();
}

bool BuildProgress::failed() const {
    return finished() && !succeeded();
}

std::optional<std::int64_t> BuildProgress::started_ms() const {
    return started_ms_;
}

std::optional<std::int64_t> BuildProgress::updated_ms() const {
    return updated_ms_;
}

}  // namespace bscd
