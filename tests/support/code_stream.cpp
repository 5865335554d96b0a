#include "support/code_stream.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bscd::test {

CodeStream::CodeStream(const std::string& dir, std::size_t count, CodeValues values)
    : catalog_file_(dir + "/stream_codes") {
    constexpr std::size_t below_final = 999;
    const std::size_t first = values == CodeValues::distinct ? 100'000 : 0;
    const std::size_t period = values == CodeValues::distinct ? count : below_final;
    std::ofstream catalog(catalog_file_);
    for (std::size_t i = 1; i <= std::min(count, period); ++i) {
        catalog << "STREAM_" << i << "_CODE=" << first + i << "\n";
    }
    for (std::size_t i = 0; i < count; ++i) {
        codes_.push_back(std::to_string(first + 1 + i % period));
    }
    if (!catalog.flush()) {
        throw std::runtime_error("cannot write " + catalog_file_);
    }
}

std::string CodeStream::requests(std::size_t first, std::size_t count) const {
    std::string text;
    for (std::size_t i = first; i < first + count && i < codes_.size(); ++i) {
        text += codes_[i] + "\n";
    }
    return text;
}

std::vector<std::string> CodeStream::send(ProducerClient& client, std::size_t count) {
    count = std::min(count, codes_.size() - next_);
    try {
        client.write(requests(next_, count));
    } catch (const std::runtime_error& e) {
        // The connection broke (bscd died): the replies read below are all
        // that was accepted.
    }
    std::istringstream replies(client.read_lines(count, std::chrono::seconds(30)));
    std::vector<std::string> refused;
    std::string reply;
    std::size_t answered = 0;
    while (std::getline(replies, reply)) {
        if (reply == "OK") {
            accepted_.push_back(codes_[next_ + answered]);
        } else {
            refused.push_back(reply);
        }
        ++answered;
    }
    if (answered < count) {
        refused.push_back(std::to_string(count - answered) + " requests got no reply");
    }
    next_ += count;
    return refused;
}

bool is_ordered_subset(const std::vector<std::string>& seen, const std::vector<std::string>& all) {
    auto from = all.begin();
    for (const std::string& code : seen) {
        from = std::find(from, all.end(), code);
        if (from == all.end()) {
            return false;
        }
        ++from;
    }
    return true;
}

}  // namespace bscd::test
