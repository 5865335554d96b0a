#pragma once
// One accepted code as it is stored: a history stream entry as bscd writes
// it (fields code, name, ts), and equally a record of the spool file
// (core/spool_record.hpp, SpoolRecord), which holds exactly what the entry
// will hold. Stored records carry the code's value and name, not a catalog
// entry: a reader's catalog may lack the code.
//
// Delivery (core/outbox.hpp) stays a type of its own: it is the code on its
// way, held by the million in the outbox, and points to its catalog entry
// (is_final(), no string per code); it becomes a record only where it is
// stored (Spool::append) and one again where it is read back (Spool::recovered).

#include <cstdint>
#include <string>

#include "core/entry_id.hpp"

namespace bscd {

struct HistoryEntry {
    EntryId id;
    int code = 0;
    std::string name;
    std::int64_t ts_ms = 0;  // Unix ms when bscd accepted it

    bool operator==(const HistoryEntry&) const = default;
};

}  // namespace bscd
