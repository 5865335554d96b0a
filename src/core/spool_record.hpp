#pragma once
// The spool file's format (bscd --spool): one line per accepted code,
//
//   <entry id> <code> <name> <accepted ms> <crc32 of what precedes it, hex>\n
//
// e.g. "1763938454570-0 10 PREPARED_CHROOT_ENV_CODE 1763938454570 9a3c01f2".
// Text, so an operator can read it; a checksum, so that a line torn by a
// crash or damaged on disk is recognised and never replayed as a wrong code.
// Pure: bytes in, records out.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/entry_id.hpp"

namespace bscd {

struct SpoolRecord {
    EntryId id;
    int code = 0;
    std::string name;
    std::int64_t accepted_ms = 0;

    bool operator==(const SpoolRecord&) const = default;
};

// One record as a complete line, '\n' included.
std::string encode_spool_record(const SpoolRecord& record);

struct SpoolScan {
    std::vector<SpoolRecord> records;  // the intact lines, in file order
    std::size_t intact_bytes = 0;      // length of the prefix ending at the last complete line
    std::size_t damaged_lines = 0;     // complete lines that failed their checksum or format
    bool torn_tail = false;            // bytes after the last '\n' (a write cut by a crash)
};

// Reads a whole spool file's text. A damaged complete line is skipped (and
// counted), not a reason to drop the lines after it; an unterminated last
// line is a write that never finished, so it was never answered OK.
SpoolScan scan_spool(std::string_view text);

}  // namespace bscd
