#pragma once
// A long stream of codes for the fault tests, with its catalog, and a
// producer that sends them in order over one connection, in chunks, and
// keeps what was answered. The values are either
// - distinct (100001, 100002, ...): every code in the history or on the
//   channel says which request it was; but each is final (>= 1000), so a
//   gateway viewer's stream ends at the first; or
// - below final (1, 2, ..., 999, 1, 2, ...): viewers keep following. A value
//   recurs only every 999 codes, far more than a failover's resent tail, so
//   a lost code and a repeated one cannot hide each other in an in-order
//   comparison.

#include <cstddef>
#include <string>
#include <vector>

#include "support/producer_client.hpp"

namespace bscd::test {

enum class CodeValues { distinct, below_final };

class CodeStream {
public:
    // Writes the catalog file into `dir`.
    CodeStream(const std::string& dir, std::size_t count, CodeValues values = CodeValues::distinct);

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
