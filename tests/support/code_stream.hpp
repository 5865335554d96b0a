#pragma once
// A long stream of distinct codes for the fault tests: a catalog of
// `count` codes (values 100001, 100002, ...), so that every code in the
// history or on the channel says which request it was, and a producer that
// sends them in order over one connection, in chunks, and keeps what was
// answered.

#include <cstddef>
#include <string>
#include <vector>

#include "support/producer_client.hpp"

namespace bscd::test {

class CodeStream {
public:
    // Writes the catalog file into `dir`.
    CodeStream(const std::string& dir, std::size_t count);

    const std::string& catalog_file() const { return catalog_file_; }
    std::size_t size() const { return codes_.size(); }
    // Every code, in sending order.
    const std::vector<std::string>& codes() const { return codes_; }

    // Sends codes [sent(), sent() + count) over `client` and reads their
    // replies; returns the replies that were not "OK" and a line for those
    // that got none (empty: all accepted). The codes count as sent either way.
    std::vector<std::string> send(ProducerClient& client, std::size_t count);
    std::size_t sent() const { return next_; }
    // The codes answered OK, in order.
    const std::vector<std::string>& accepted() const { return accepted_; }
    // Requests for codes [first, first + count), one per line.
    std::string requests(std::size_t first, std::size_t count) const;

private:
    std::string catalog_file_;
    std::vector<std::string> codes_;
    std::vector<std::string> accepted_;
    std::size_t next_ = 0;
};

// Whether `seen` is `all` with some elements left out: every element once,
// in `all`'s order (the codes are distinct).
bool is_ordered_subset(const std::vector<std::string>& seen, const std::vector<std::string>& all);

}  // namespace bscd::test
