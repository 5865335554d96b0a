#pragma once
// The open producer sessions: how many there are (--max-connections), and
// the shutdown's way to end them.

#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

namespace bscd {

class ProducerSession;

class ProducerSessions {
public:
    explicit ProducerSessions(std::size_t capacity) : capacity_(capacity) {}

    void join(ProducerSession* session) { open_.insert(session); }
    // Runs the emptied handler when `session` was the last one.
    void leave(ProducerSession* session);

    [[nodiscard]] bool at_capacity() const { return open_.size() >= capacity_; }
    [[nodiscard]] std::size_t size() const { return open_.size(); }
    [[nodiscard]] bool empty() const { return open_.empty(); }

    // Each session but those in `spared` finishes the reply it is writing,
    // then closes.
    void stop_all_except(const std::vector<std::weak_ptr<ProducerSession>>& spared);
    // Each session closes now, whatever it is writing.
    void close_all();
    // Runs `emptied` each time the last session has left.
    void when_emptied(std::function<void()> emptied) { emptied_ = std::move(emptied); }

private:
    std::size_t capacity_;
    std::unordered_set<ProducerSession*> open_;
    std::function<void()> emptied_;
};

}  // namespace bscd
