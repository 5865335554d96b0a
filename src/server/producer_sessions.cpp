#include "server/producer_sessions.hpp"

#include <algorithm>

#include "server/producer_session.hpp"

namespace bscd {

void ProducerSessions::leave(ProducerSession* session) {
    open_.erase(session);
    if (open_.empty() && emptied_) {
        emptied_();
    }
}

void ProducerSessions::stop_all_except(const std::vector<std::weak_ptr<ProducerSession>>& spared) {
    // A copy: a session that stops may leave at once.
    const std::vector<ProducerSession*> open(open_.begin(), open_.end());
    for (ProducerSession* session : open) {
        const bool keep = std::any_of(spared.begin(), spared.end(), [session](const auto& weak) {
            return weak.lock().get() == session;
        });
        if (!keep) {
            session->stop();
        }
    }
}

void ProducerSessions::close_all() {
    const std::vector<ProducerSession*> open(open_.begin(), open_.end());
    for (ProducerSession* session : open) {
        session->close();
    }
}

}  // namespace bscd
