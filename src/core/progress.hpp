#pragma once
// A build's progress as docs/architecture.md, "Codes and progress", defines
// it: the position of the most advanced stage code seen, in catalog order.
// Stages may be skipped or repeated; progress never moves backwards; success
// (1000) means 100 %; failure (1001, any final code but success) freezes
// progress where it was.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/catalog.hpp"

namespace bscd {

class BuildProgress {
public:
    explicit BuildProgress(const Catalog& catalog);

    // Takes the next code of the build, accepted at Unix ms `ts_ms`. Codes
    // after a final one are ignored (a finished build stays as it ended).
    void record(const StatusCode& code, std::int64_t ts_ms);

    // 0 to 100: floor(100 * stages_done / total_stages); 100 after success.
    [[nodiscard]] int percent() const;
    // Stages in the catalog (the codes below 1000), N in "stage n of N".
    [[nodiscard]] std::size_t total_stages() const;
    // 1-based catalog position of the most advanced stage seen, 0 if none.
    [[nodiscard]] std::size_t stages_done() const;
    // The most advanced stage seen (nullptr if none): "current stage".
    [[nodiscard]] const StatusCode* furthest_stage() const;
    // The last code recorded, whatever it was (nullptr if none).
    [[nodiscard]] const StatusCode* last_code() const;

    [[nodiscard]] bool finished() const;
    [[nodiscard]] bool succeeded() const;
    [[nodiscard]] bool failed() const;

    // Unix ms of the first and last code recorded (nullopt before any).
    [[nodiscard]] std::optional<std::int64_t> started_ms() const;
    [[nodiscard]] std::optional<std::int64_t> updated_ms() const;

private:
    const Catalog& catalog_;
    std::size_t stages_done_ = 0;
    const StatusCode* furthest_ = nullptr;
    const StatusCode* last_ = nullptr;
    std::optional<std::int64_t> started_ms_;
    std::optional<std::int64_t> updated_ms_;
};

}  // namespace bscd
