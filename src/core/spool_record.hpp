#pragma once
// The spool file's format (bscd --spool): one line per accepted code,
//
//   <entry id> <code> <name> <accepted ms> <crc32 of what precedes it, hex>\n
//
// e.g. "1763938454570-0 10 PREPARED_CHROOT_ENV_CODE 1763938454570 2da08314",
// and, once Redis has confirmed codes, a mark line
//
//   confirmed <entry id> <crc32 of what precedes it, hex>\n
//
// saying every record up to that id needs no replay. Appending a mark costs
// one write; cutting the file each time Redis catches up cost an ftruncate
// of milliseconds on the event loop. And the build's start, once,
//
//   start <started ms>[ <profile>] <crc32 of what precedes it, hex>\n
//
// e.g. "start 1763938454570 bookworm-arm64 9cff40e2": no profile field when
// there is none. A profile is a valid profile name (core/project.hpp), so it
// needs no escaping: no space, no newline.
// Text, so an operator can read it; a checksum, so that a line torn by a
// crash or damaged on disk is recognised and never replayed as a wrong code.
// Pure: bytes in, records out.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/build_start.hpp"
#include "core/entry_id.hpp"
#include "core/history_entry.hpp"

namespace bscd {

// A record holds exactly the history entry its code becomes: one type.
using SpoolRecord = HistoryEntry;

// One record as a complete line, '\n' included.
std::string encode_spool_record(const SpoolRecord& record);
// The mark "Redis confirmed every code up to `newest`", '\n' included.
std::string encode_confirmed_mark(EntryId newest);
// The build's start, '\n' included. Throws std::invalid_argument when the
// profile is neither empty nor a valid profile name (it could not be read
// back).
std::string encode_build_start(const BuildStart& start);

struct SpoolScan {
    std::vector<SpoolRecord> records;       // intact records no mark confirmed, in file order
    std::size_t confirmed_records = 0;      // intact records a mark confirmed (not replayed)
    std::size_t intact_bytes = 0;           // length of the prefix ending at the last complete line
    std::size_t damaged_lines = 0;          // complete lines that failed their checksum or format
    bool torn_tail = false;                 // bytes after the last '\n' (a write cut by a crash)
    std::optional<BuildStart> build_start;  // the last intact start record, if any
};

// Reads a whole spool file's text. A damaged complete line is skipped (and
// counted), not a reason to drop the lines after it; an unterminated last
// line is a write that never finished, so it was never answered OK. Ids
// grow through the file and Redis confirms in order, so a mark confirms
// every record with an id up to its own, wherever the record is.
SpoolScan scan_spool(std::string_view text);

}  // namespace bscd
