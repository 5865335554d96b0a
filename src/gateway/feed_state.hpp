#pragma once
// Where a ProjectFeed is in its life, apart from its events: its channel's
// subscription and history, and its reads of the stream. Pure: the feed
// tells it what happened, and starts a read when it answers true. Every
// transition is made in feed_state.cpp.

#include <chrono>
#include <variant>

namespace bscd {

class FeedState {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    // Before the subscription: a read could miss what comes between.
    struct Unsubscribed {};
    // Subscribed; the history is being read the first time.
    struct Loading {};
    // Subscribed, the whole history read once: viewers can be placed.
    struct Ready {};
    // Redis refused the channel: no messages will come. Until `until`, when
    // the gateway closes the feed and the next viewer makes it ask again.
    struct Refused {
        TimePoint until;
        bool history_read = false;  // it was Ready: the events kept stay valid
    };
    using Phase = std::variant<Unsubscribed, Loading, Ready, Refused>;

    // The reads of the stream: at most one in flight.
    enum class Reads {
        Idle,
        InFlight,
        InFlightAgain,  // something new was announced meanwhile: read once more after it
        Failed,         // Redis answered with an error: the next tick tries again
    };

    // The inputs. Those returning bool: true when the feed reads now (and
    // then reports read_started()).
    [[nodiscard]] bool on_subscribed();
    [[nodiscard]] bool on_announced();  // a message, or the reader's link is back
    [[nodiscard]] bool on_tick();
    void on_refused(TimePoint until);
    // Whether the reader took the read (false: no link; its return announces).
    void read_started(bool started);
    // A page came; `complete`: the stream has nothing after it.
    [[nodiscard]] bool on_page(bool complete);
    void on_read_failed();

    [[nodiscard]] const Phase& phase() const { return phase_; }
    [[nodiscard]] Reads reads() const { return reads_; }
    [[nodiscard]] bool ready() const;
    [[nodiscard]] bool refused() const { return std::holds_alternative<Refused>(phase_); }
    // While refused(): when the gateway asks again ({} otherwise).
    [[nodiscard]] TimePoint refused_until() const;

private:
    // A read is wanted: whether to start it now.
    [[nodiscard]] bool want_read();

    Phase phase_;
    Reads reads_ = Reads::Idle;
};

}  // namespace bscd
