#pragma once
// bscd's graceful stop, in the one order it must happen, whatever starts it
// (SIGTERM, SIGINT or an EXIT): stop accepting; stop the sessions but those
// waiting for their EXIT's answer; let the publisher hand Redis what it
// holds, for --shutdown-timeout at most; then stop the publisher, empty the
// spool if Redis has everything, remove the pid file (Pieman's stop script
// waits for it to go), answer every EXIT, and give the last replies two
// seconds. Nothing is left to do afterwards, so the event loop's run()
// returns: operations end before the objects they refer to. Also owns what
// runs until then: the pid file and the signal handlers. (No timer of its
// own may outlive the stop: one that rearms itself would keep run() going.)

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "redis/publisher.hpp"
#include "server/pid_file.hpp"
#include "server/producer_sessions.hpp"
#include "server/server_options.hpp"
#include "server/spool.hpp"

namespace bscd {

class ProducerSession;

// Where the daemon is in its stop. Every transition is made by
// ShutdownSequence::advance (shutdown_sequence.cpp).
enum class ShutdownState {
    Serving,   // no stop asked for
    Draining,  // stopping: the publisher hands Redis what it holds
    Finished,  // stopped: the exit status is known, EXITs are answered, the loop runs out
};

class ShutdownSequence {
public:
    // `spool` is null without --spool; `stop_accepting` closes the listener.
    ShutdownSequence(boost::asio::io_context& io, const ServerOptions& options,
                     Publisher& publisher, Spool* spool, ProducerSessions& sessions,
                     std::function<void()> stop_accepting);

    // Once the socket accepts: writes the pid file (if any), watches SIGTERM
    // and SIGINT. Throws StartupError.
    void arm();

    // Starts the stop, once; `reason` is logged.
    void request(const std::string& reason);
    // An accepted EXIT from `requester`, from pid `pid`: starts the stop
    // and is answered once it has finished.
    void request_exit(const std::weak_ptr<ProducerSession>& requester, pid_t pid);

    [[nodiscard]] ShutdownState state() const { return state_; }
    // 0 when every accepted code reached Redis, 1 otherwise.
    [[nodiscard]] int exit_status() const { return exit_status_; }

private:
    // The one place the state changes; runs what entering `next` does.
    void advance(ShutdownState next, const std::string& reason = {});
    void drain(const std::string& reason);
    void finish();
    void answer_exits();

    boost::asio::io_context& io_;
    const ServerOptions& options_;
    Publisher& publisher_;
    Spool* spool_;
    ProducerSessions& sessions_;
    std::function<void()> stop_accepting_;
    std::optional<PidFile> pid_file_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer drain_timer_;   // --shutdown-timeout
    boost::asio::steady_timer linger_timer_;  // bounds the last writes once finished
    std::vector<std::weak_ptr<ProducerSession>> exit_requesters_;
    ShutdownState state_ = ShutdownState::Serving;
    int exit_status_ = 0;
};

}  // namespace bscd
