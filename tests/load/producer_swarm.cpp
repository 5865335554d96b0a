#include "load/producer_swarm.hpp"

#include <array>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "support/wait.hpp"

namespace bscd::test {

namespace asio = boost::asio;
using boost::system::error_code;
using local = asio::local::stream_protocol;

struct ProducerSwarm::Connection {
    Connection(asio::io_context& io, ProducerPlan p) : socket(io), timer(io), plan(std::move(p)) {}
    local::socket socket;
    asio::steady_timer timer;
    ProducerPlan plan;
    std::size_t next = 0;   // the next code to send
    bool awaiting = false;  // a request is out, its reply not in yet
    std::string request;    // being written
    std::string replies;    // received, not a whole line yet
    std::array<char, 256> buffer{};
    bool failed = false;
};

ProducerSwarm::ProducerSwarm(std::vector<ProducerPlan> plans) : size_(plans.size()) {
    connections_.reserve(plans.size());
    for (auto& plan : plans) {
        total_codes_ += plan.codes.size();
        connections_.push_back(std::make_unique<Connection>(loop_.io(), std::move(plan)));
    }
    loop_.post([this] {
        for (auto& connection : connections_) {
            connect(*connection);
        }
    });
}

ProducerSwarm::~ProducerSwarm() {
    close();
}

void ProducerSwarm::close() {
    loop_.close([this] {
        closing_ = true;
        for (auto& connection : connections_) {
            error_code ignored;
            connection->timer.cancel();
            connection->socket.close(ignored);
        }
    });
}

void ProducerSwarm::connect(Connection& connection) {
    connection.socket.async_connect(
        local::endpoint(connection.plan.socket_path), [this, &connection](const error_code& ec) {
            if (ec) {
                fail(connection, "connect to " + connection.plan.socket_path + ": " + ec.message());
                return;
            }
            {
                const std::lock_guard lock(mutex_);
                ++connected_;
            }
            read_reply(connection);
        });
}

void ProducerSwarm::start() {
    loop_.post([this] {
        start_ = Clock::now();
        for (auto& connection : connections_) {
            schedule(*connection);
        }
    });
}

void ProducerSwarm::schedule(Connection& connection) {
    if (connection.failed || connection.next == connection.plan.codes.size()) {
        return;  // done: the connection stays open until close()
    }
    connection.timer.expires_at(start_ + connection.plan.codes[connection.next].first);
    connection.timer.async_wait([this, &connection](const error_code& ec) {
        if (!ec) {
            send_next(connection);
        }
    });
}

void ProducerSwarm::send_next(Connection& connection) {
    if (connection.failed || closing_) {
        return;
    }
    connection.request = connection.plan.codes[connection.next].second + "\n";
    connection.awaiting = true;
    {
        const std::lock_guard lock(mutex_);
        ++sent_;
    }
    asio::async_write(connection.socket, asio::buffer(connection.request),
                      [this, &connection](const error_code& ec, std::size_t /*bytes*/) {
                          if (ec) {
                              fail(connection, "write: " + ec.message());
                          }
                      });
}

void ProducerSwarm::read_reply(Connection& connection) {
    // Always reading, so that a connection the daemon closes is noticed
    // whenever it happens, not only at the next code.
    connection.socket.async_read_some(
        asio::buffer(connection.buffer), [this, &connection](const error_code& ec, std::size_t n) {
            if (ec) {
                fail(connection, "closed by bscd (" + ec.message() + ") after " +
                                     std::to_string(connection.next) + " codes");
                return;
            }
            connection.replies.append(connection.buffer.data(), n);
            for (auto end = connection.replies.find('\n'); end != std::string::npos;
                 end = connection.replies.find('\n')) {
                const std::string line = connection.replies.substr(0, end);
                connection.replies.erase(0, end + 1);
                if (line != "OK" || !connection.awaiting) {
                    fail(connection, "bscd answered \"" + line + "\"");
                    return;
                }
                connection.awaiting = false;
                ++connection.next;
                {
                    const std::lock_guard lock(mutex_);
                    ++answered_ok_;
                }
                schedule(connection);
            }
            read_reply(connection);
        });
}

void ProducerSwarm::fail(Connection& connection, std::string reason) {
    if (connection.failed || closing_) {
        return;
    }
    connection.failed = true;
    error_code ignored;
    connection.timer.cancel();
    connection.socket.close(ignored);
    const std::lock_guard lock(mutex_);
    failures_.add(std::move(reason));
}

bool ProducerSwarm::wait_connected(std::chrono::milliseconds timeout) {
    return wait_until([&] { return failed() > 0 || connected() == size_; }, timeout) &&
           failed() == 0 && connected() == size_;
}

bool ProducerSwarm::wait_answered(std::chrono::milliseconds timeout) {
    return wait_until([&] { return failed() > 0 || answered_ok() == total_codes_; }, timeout) &&
           failed() == 0 && answered_ok() == total_codes_;
}

std::size_t ProducerSwarm::connected() const {
    const std::lock_guard lock(mutex_);
    return connected_;
}

std::size_t ProducerSwarm::sent() const {
    const std::lock_guard lock(mutex_);
    return sent_;
}

std::size_t ProducerSwarm::answered_ok() const {
    const std::lock_guard lock(mutex_);
    return answered_ok_;
}

std::size_t ProducerSwarm::failed() const {
    const std::lock_guard lock(mutex_);
    return failures_.count;
}

std::string ProducerSwarm::failures(std::size_t max) const {
    const std::lock_guard lock(mutex_);
    return failures_.describe(max);
}

}  // namespace bscd::test
