#pragma once
// bscd --spool DIR: the accepted codes Redis has not confirmed yet, on disk.
// Codes are appended (write) as they are accepted and made durable (one
// fdatasync for all the codes of one read) before any of them is answered
// OK. When Redis confirms codes a mark saying so is appended (unsynced: the
// next sync carries it); the file is cut to nothing once it has grown past
// cut_above with everything confirmed, or at a clean stop, and rewritten
// with only the unconfirmed codes when it grows large while codes keep
// coming. On start the unconfirmed records are replayed: the history script
// skips every entry Redis already has, so a replay never duplicates.
// The build's start is recorded once and kept through every cut (cut to it,
// not to nothing) and rewrite, written first: a bscd restarted mid-build
// still knows when the build began.

#include <cstddef>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/build_start.hpp"
#include "core/catalog.hpp"
#include "core/outbox.hpp"
#include "core/spool_record.hpp"

namespace bscd {

// Writing or syncing the spool failed (full disk, I/O error). The codes
// concerned were not accepted.
class SpoolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Spool {
public:
    // Opens (creating, mode 0600) DIR/<channel>.spool and locks it, reads
    // what it holds and cuts off a torn last line. Throws StartupError when
    // it cannot, or when another bscd holds the lock.
    Spool(const std::string& dir, const std::string& channel);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // What the file held at start, as deliveries to replay, oldest first.
    // A code the catalog no longer has is replayed as recorded (value and
    // name): it was accepted.
    std::vector<Delivery> recovered(const Catalog& catalog);
    [[nodiscard]] std::size_t damaged_lines() const { return damaged_lines_; }
    // The build start the file held when opened (the last one recorded);
    // nullopt if none. record_build_start does not change it.
    [[nodiscard]] std::optional<BuildStart> build_start() const { return found_start_; }

    // Appends the build's start and syncs it: all of it or, on failure,
    // nothing (SpoolError). Call it between batches of codes (none appended
    // and not synced): a failed sync cuts those off too, as sync() does.
    // std::invalid_argument, nothing written, when the profile is neither
    // empty nor a valid profile name.
    void record_build_start(const BuildStart& start);

    // Appends a record: all of it or, on failure, nothing (SpoolError).
    void append(const Delivery& delivery);
    // Makes every appended record durable; on failure the records appended
    // since the last sync are cut off again and SpoolError is thrown.
    void sync();

    // Redis confirmed every code up to `newest`; `held` is what is still
    // unconfirmed, oldest first.
    void confirmed(EntryId newest, const std::deque<Delivery>& held);
    // Redis has every code (a clean stop): nothing is left to replay. The
    // build start stays.
    void empty();
    // bscd moved the codes it holds to new ids (another writer's entries
    // were in the way in the history); `held` is every unconfirmed code,
    // oldest first, under its new id. The file is replaced by one holding
    // exactly those (synced, renamed over): appending them would leave the
    // old records to be replayed beside the new ones after a crash, each
    // code twice, and a mark cannot drop the old ones without the new ones
    // being durable first. SpoolError when that fails: the file keeps the
    // old ids, which a replay moves again, so nothing is lost or repeated.
    void moved(const std::deque<Delivery>& held);

    [[nodiscard]] const std::string& path() const { return path_; }
    // Bytes in the file now.
    [[nodiscard]] std::size_t size() const { return size_; }

    // A file this large with everything confirmed is cut to nothing.
    static constexpr std::size_t cut_above = std::size_t{64} << 10;
    // A file this large is rewritten with only its unconfirmed records.
    static constexpr std::size_t compact_above = std::size_t{1} << 20;

private:
    void cut_to(std::size_t size);
    // Replaces the file with one holding only the build start (if any) and
    // `records` (synced, renamed over); a warning when it cannot (the old
    // file stays, still right).
    void rewrite(const std::vector<SpoolRecord>& records);
    // The same; SpoolError when it cannot.
    void replace(const std::vector<SpoolRecord>& records);
    void mark_confirmed(EntryId newest);

    std::string dir_;
    std::string path_;
    int fd_ = -1;
    std::size_t size_ = 0;         // bytes written
    std::size_t synced_size_ = 0;  // bytes known durable
    std::size_t records_ = 0;      // records in the file (for deciding a rewrite cheaply)
    std::size_t unsynced_records_ = 0;
    bool mark_failing_ = false;  // said once, not at every confirmation
    std::vector<SpoolRecord> found_;
    std::optional<BuildStart> found_start_;
    std::string start_line_;      // the build start to keep, encoded; empty: none
    bool start_at_head_ = false;  // the file begins with start_line_: a cut can keep it
    std::size_t damaged_lines_ = 0;
    std::deque<StatusCode> unknown_codes_;  // recovered codes the catalog lacks (stable addresses)
};

}  // namespace bscd
