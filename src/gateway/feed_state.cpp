#include "gateway/feed_state.hpp"

namespace bscd {

bool FeedState::on_subscribed() {
    if (std::holds_alternative<Unsubscribed>(phase_)) {
        phase_ = Loading{};
    }
    return want_read();  // what came before the subscription, or while it was down
}

bool FeedState::on_announced() {
    return want_read();
}

bool FeedState::on_tick() {
    return reads_ == Reads::Failed && want_read();
}

void FeedState::on_refused(TimePoint until) {
    phase_ = Refused{until, ready()};
}

bool FeedState::want_read() {
    const bool subscribed =
        std::holds_alternative<Loading>(phase_) || std::holds_alternative<Ready>(phase_);
    if (!subscribed) {
        return false;
    }
    if (reads_ == Reads::InFlight || reads_ == Reads::InFlightAgain) {
        reads_ = Reads::InFlightAgain;
        return false;
    }
    return true;
}

void FeedState::read_started(bool started) {
    if (started) {
        reads_ = Reads::InFlight;
    }
}

bool FeedState::on_page(bool complete) {
    const bool again = reads_ == Reads::InFlightAgain;
    reads_ = Reads::Idle;
    if (complete) {
        if (std::holds_alternative<Loading>(phase_)) {
            phase_ = Ready{};
        } else if (auto* refused = std::get_if<Refused>(&phase_)) {
            refused->history_read = true;  // a read in flight when the refusal came
        }
    }
    return (!complete || again) && want_read();
}

void FeedState::on_read_failed() {
    reads_ = Reads::Failed;
}

bool FeedState::ready() const {
    if (const auto* refused = std::get_if<Refused>(&phase_)) {
        return refused->history_read;
    }
    return std::holds_alternative<Ready>(phase_);
}

FeedState::TimePoint FeedState::refused_until() const {
    const auto* refused = std::get_if<Refused>(&phase_);
    return refused != nullptr ? refused->until : TimePoint{};
}

}  // namespace bscd
