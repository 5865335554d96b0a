#include "server/spool.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/startup.hpp"

namespace bscd {
namespace {

SpoolRecord record_of(const Delivery& delivery) {
    return SpoolRecord{delivery.id, delivery.code->value, delivery.code->name,
                       delivery.accepted_ms};
}

// Writes all of `bytes`; false (errno set) when the kernel would not.
bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string read_all(int fd) {
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n < 0) {
                throw StartupError(fmt::format("cannot read spool: {}", std::strerror(errno)));
            }
            return text;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

// A new or renamed file survives a crash only once its directory is synced.
void sync_directory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)::fsync(fd);
        ::close(fd);
    }
}

int open_locked(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw StartupError(fmt::format("cannot open spool {}: {}", path, std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        throw StartupError(fmt::format("spool {} is in use by another bscd", path));
    }
    return fd;
}

}  // namespace

Spool::Spool(const std::string& dir, const std::string& channel)
    : dir_(dir), path_(fmt::format("{}/{}.spool", dir, channel)) {
    fd_ = open_locked(path_, 0);
    try {
        const std::string text = read_all(fd_);
        SpoolScan scan = scan_spool(text);
        found_ = std::move(scan.records);
        found_start_ = std::move(scan.build_start);
        if (found_start_) {
            start_line_ = encode_build_start(*found_start_);
            start_at_head_ = text.starts_with(start_line_);
        }
        records_ = found_.size() + scan.confirmed_records;
        damaged_lines_ = scan.damaged_lines;
        size_ = text.size();
        if (scan.torn_tail) {
            // A write cut short by a crash: never synced, never answered OK.
            spdlog::warn("Spool {}: dropping {} bytes of a record that was never completed", path_,
                         size_ - scan.intact_bytes);
            if (::ftruncate(fd_, static_cast<off_t>(scan.intact_bytes)) != 0) {
                throw StartupError(
                    fmt::format("cannot repair spool {}: {}", path_, std::strerror(errno)));
            }
            size_ = scan.intact_bytes;
        }
        synced_size_ = size_;
        sync_directory(dir_);
        // Only the records to replay matter from now on (the damaged ones
        // were reported): start from a file that holds just those.
        if (found_.empty()) {
            empty();
        } else if (scan.confirmed_records > 0 || damaged_lines_ > 0 ||
                   (!start_line_.empty() && !start_at_head_)) {
            rewrite(found_);
        }
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

Spool::~Spool() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

std::vector<Delivery> Spool::recovered(const Catalog& catalog) {
    std::vector<Delivery> held;
    held.reserve(found_.size());
    for (const SpoolRecord& record : found_) {
        const StatusCode* code = catalog.find(record.code);
        if (code == nullptr) {
            unknown_codes_.push_back(StatusCode{record.code, record.name, {}});
            code = &unknown_codes_.back();
        }
        held.push_back(Delivery{record.id, code, record.ts_ms});
    }
    found_.clear();
    return held;
}

void Spool::record_build_start(const BuildStart& start) {
    const std::string line = encode_build_start(start);
    const std::size_t before = size_;
    if (!write_all(fd_, line)) {
        const int error = errno;
        cut_to(size_);
        throw SpoolError(fmt::format("cannot write spool {}: {}", path_, std::strerror(error)));
    }
    size_ += line.size();
    sync();
    start_line_ = line;
    start_at_head_ = before == 0;
}

void Spool::append(const Delivery& delivery) {
    const std::string line = encode_spool_record(record_of(delivery));
    if (!write_all(fd_, line)) {
        const int error = errno;
        cut_to(size_);  // a short write leaves part of a line
        throw SpoolError(fmt::format("cannot write spool {}: {}", path_, std::strerror(error)));
    }
    size_ += line.size();
    ++records_;
    ++unsynced_records_;
}

void Spool::sync() {
    if (synced_size_ == size_) {
        return;
    }
    if (::fdatasync(fd_) != 0) {
        const int error = errno;
        cut_to(synced_size_);
        records_ -= unsynced_records_;
        unsynced_records_ = 0;
        throw SpoolError(fmt::format("cannot sync spool {}: {}", path_, std::strerror(error)));
    }
    synced_size_ = size_;
    unsynced_records_ = 0;
}

void Spool::confirmed(EntryId newest, const std::deque<Delivery>& held) {
    if (held.empty() && size_ > cut_above) {
        empty();
    } else if (size_ > compact_above && held.size() * 2 <= records_) {
        // Only when most of it is confirmed: else it would gain little.
        std::vector<SpoolRecord> kept;
        kept.reserve(held.size());
        std::transform(held.begin(), held.end(), std::back_inserter(kept), record_of);
        rewrite(kept);
    } else {
        mark_confirmed(newest);
    }
}

void Spool::empty() {
    if (!start_line_.empty() && !start_at_head_) {
        // Cutting to nothing and writing the start again could lose it in a
        // crash between the two: a new file, renamed over, cannot.
        rewrite({});
        return;
    }
    // Not synced: if the cut is lost in a crash, the marks still say what
    // needs no replay, and replaying what Redis already has changes nothing.
    // The start at the head was synced when recorded.
    cut_to(start_line_.size());
    records_ = 0;
}

void Spool::mark_confirmed(EntryId newest) {
    // Not synced either: the next code's sync carries it. Lost, it only
    // means a replay Redis skips.
    const std::string mark = encode_confirmed_mark(newest);
    if (!write_all(fd_, mark)) {
        if (!mark_failing_) {
            spdlog::warn(
                "Cannot mark confirmed codes in spool {}: {}; a restart would send them "
                "again, and Redis would skip them",
                path_, std::strerror(errno));
        }
        mark_failing_ = true;
        cut_to(size_);  // no part of a line may stay
        return;
    }
    mark_failing_ = false;
    size_ += mark.size();
}

void Spool::cut_to(std::size_t size) {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
        spdlog::error("Cannot cut spool {} to {} bytes: {}", path_, size, std::strerror(errno));
        return;  // what stays is replayed, harmlessly, after a restart
    }
    size_ = size;
    synced_size_ = std::min(synced_size_, size);
}

void Spool::moved(const std::deque<Delivery>& held) {
    std::vector<SpoolRecord> records;
    records.reserve(held.size());
    std::transform(held.begin(), held.end(), std::back_inserter(records), record_of);
    replace(records);
}

void Spool::rewrite(const std::vector<SpoolRecord>& records) {
    try {
        replace(records);
    } catch (const SpoolError& e) {
        spdlog::warn("Cannot compact spool {}: {}", path_, e.what());
    }
}

void Spool::replace(const std::vector<SpoolRecord>& records) {
    std::string text = start_line_;  // first, where a later cut keeps it
    for (const SpoolRecord& record : records) {
        text += encode_spool_record(record);
    }
    const std::string fresh_path = path_ + ".new";
    int fresh = -1;
    try {
        fresh = open_locked(fresh_path, O_TRUNC);
    } catch (const StartupError& e) {
        throw SpoolError(e.what());
    }
    if (!write_all(fresh, text) || ::fdatasync(fresh) != 0 ||
        ::rename(fresh_path.c_str(), path_.c_str()) != 0) {
        const int error = errno;
        ::close(fresh);
        ::unlink(fresh_path.c_str());
        throw SpoolError(fmt::format("cannot write {}: {}", fresh_path, std::strerror(error)));
    }
    sync_directory(dir_);
    ::close(fd_);
    fd_ = fresh;
    size_ = synced_size_ = text.size();
    records_ = records.size();
    start_at_head_ = !start_line_.empty();
}

}  // namespace bscd
