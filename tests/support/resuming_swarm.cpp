#include "support/resuming_swarm.hpp"

#include <algorithm>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "support/http_client.hpp"
#include "support/sse_stream.hpp"

namespace bscd::test {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

struct ResumingSwarm::Viewer {
    explicit Viewer(asio::io_context& io) : socket(io), timer(io) {}
    enum class State : std::uint8_t { Waiting, Connecting, Streaming, Finished };
    tcp::socket socket;
    asio::steady_timer timer;
    State state = State::Waiting;
    HttpStreamDecoder decoder;
    SseParser parser;
    std::string request;             // this attempt's
    std::vector<std::uint32_t> ids;  // interned, under mutex_
};

ResumingSwarm::ResumingSwarm(int port, const std::string& target, std::size_t viewers,
                             Options options)
    : size_(viewers), port_(port), options_(options), buffer_(std::size_t{64} * 1024) {
    raise_open_files_limit();
    options_.max_connecting = std::max<std::size_t>(options_.max_connecting, 1);
    request_head_ = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n";
    viewers_.reserve(viewers);
    for (std::size_t i = 0; i < viewers; ++i) {
        viewers_.push_back(std::make_unique<Viewer>(loop_.io()));
    }
    loop_.post([this] {
        for (auto& viewer : viewers_) {
            waiting_.push_back(viewer.get());
        }
        connect_more();
    });
}

ResumingSwarm::~ResumingSwarm() {
    close();
}

void ResumingSwarm::close() {
    loop_.close([this] {
        closing_ = true;
        waiting_.clear();
        for (auto& viewer : viewers_) {
            error_code ignored;
            viewer->socket.close(ignored);
            viewer->timer.cancel();
        }
    });
}

void ResumingSwarm::queue(Viewer& viewer) {
    viewer.state = Viewer::State::Waiting;
    waiting_.push_back(&viewer);
    connect_more();
}

void ResumingSwarm::connect_more() {
    while (!closing_ && !waiting_.empty() && connecting_ < options_.max_connecting) {
        Viewer* viewer = waiting_.front();
        waiting_.pop_front();
        ++connecting_;
        connect(*viewer);
    }
}

void ResumingSwarm::connect(Viewer& viewer) {
    viewer.state = Viewer::State::Connecting;
    viewer.decoder = HttpStreamDecoder();
    viewer.parser = SseParser();
    viewer.request = request_head_;
    {
        const std::lock_guard lock(mutex_);
        if (!viewer.ids.empty()) {
            viewer.request += "Last-Event-ID: " + id_names_[viewer.ids.back()] + "\r\n";
        }
    }
    viewer.request += "\r\n";
    error_code ignored;
    viewer.socket.close(ignored);
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"),
                                 static_cast<unsigned short>(port_));
    viewer.socket.async_connect(endpoint, [this, &viewer](const error_code& ec) {
        if (ec) {
            ended(viewer, false, {});  // refused: the gateway is away
            return;
        }
        asio::async_write(viewer.socket, asio::buffer(viewer.request),
                          [this, &viewer](const error_code& write_error, std::size_t) {
                              if (write_error) {
                                  ended(viewer, false, {});
                                  return;
                              }
                              viewer.socket.non_blocking(true);
                              wait_readable(viewer);
                          });
    });
}

void ResumingSwarm::wait_readable(Viewer& viewer) {
    viewer.socket.async_wait(tcp::socket::wait_read, [this, &viewer](const error_code& ec) {
        if (ec) {
            ended(viewer, false, {});
            return;
        }
        on_readable(viewer);
    });
}

void ResumingSwarm::on_readable(Viewer& viewer) {
    std::string body;
    bool closed = false;
    for (;;) {
        error_code ec;
        const std::size_t n = viewer.socket.read_some(asio::buffer(buffer_), ec);
        if (!viewer.decoder.feed(std::string_view(buffer_.data(), n), body)) {
            ended(viewer, false, "bad response: " + viewer.decoder.error());
            return;
        }
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            break;
        }
        if (ec) {
            closed = true;  // EOF or reset: the stream is over
            break;
        }
    }
    if (viewer.state == Viewer::State::Connecting && viewer.decoder.head_done()) {
        const int status = viewer.decoder.status();
        if (status == 204) {
            ended(viewer, true, {});
            return;
        }
        if (status != 200) {
            ended(viewer, false, "status " + std::to_string(status));
            return;
        }
        --connecting_;
        viewer.decoder.drop_headers();
        viewer.state = Viewer::State::Streaming;
        {
            const std::lock_guard lock(mutex_);
            ++streaming_;
            opened_at_.push_back(Clock::now());
        }
        connect_more();
    }
    viewer.parser.feed(body);
    if (!viewer.parser.events().empty()) {
        const std::lock_guard lock(mutex_);
        for (const SseEvent& event : viewer.parser.events()) {
            if (event.id.empty() || event.event != "status" || !event.other_lines.empty() ||
                event.data_lines != 1) {
                errors_.add("malformed event " + event.id);
            }
            viewer.ids.push_back(intern(event.id));
        }
        viewer.parser.clear_events();
    }
    viewer.parser.clear_comments();
    if (closed || viewer.decoder.body_done()) {
        ended(viewer, false, {});
        return;
    }
    wait_readable(viewer);
}

void ResumingSwarm::ended(Viewer& viewer, bool finished, const std::string& error) {
    error_code ignored;
    viewer.socket.close(ignored);
    const bool was_connecting = viewer.state == Viewer::State::Connecting;
    {
        const std::lock_guard lock(mutex_);
        if (viewer.state == Viewer::State::Streaming) {
            --streaming_;
        } else if (!finished) {
            ++attempts_failed_;
        }
        if (!error.empty()) {
            errors_.add(error);
        }
        if (finished) {
            ++finished_;
        }
    }
    viewer.state = finished ? Viewer::State::Finished : Viewer::State::Waiting;
    if (was_connecting) {
        --connecting_;
        connect_more();
    }
    if (finished || closing_) {
        return;
    }
    auto wait = options_.retry;
    if (options_.jitter.count() > 0) {
        wait += std::chrono::milliseconds(
            std::uniform_int_distribution<long>(0, options_.jitter.count())(random_));
    }
    viewer.timer.expires_after(wait);
    viewer.timer.async_wait([this, &viewer](const error_code& ec) {
        if (!ec && !closing_) {
            queue(viewer);
        }
    });
}

std::uint32_t ResumingSwarm::intern(const std::string& id) {
    const auto [it, inserted] = id_index_.emplace(id, static_cast<std::uint32_t>(id_names_.size()));
    if (inserted) {
        id_names_.push_back(id);
    }
    return it->second;
}

std::size_t ResumingSwarm::streaming() const {
    const std::lock_guard lock(mutex_);
    return streaming_;
}

std::size_t ResumingSwarm::finished() const {
    const std::lock_guard lock(mutex_);
    return finished_;
}

std::size_t ResumingSwarm::streams_opened() const {
    const std::lock_guard lock(mutex_);
    return opened_at_.size();
}

std::vector<ResumingSwarm::Clock::time_point> ResumingSwarm::stream_open_times() const {
    const std::lock_guard lock(mutex_);
    return opened_at_;
}

std::size_t ResumingSwarm::attempts_failed() const {
    const std::lock_guard lock(mutex_);
    return attempts_failed_;
}

std::size_t ResumingSwarm::errors() const {
    const std::lock_guard lock(mutex_);
    return errors_.count;
}

std::string ResumingSwarm::describe_errors(std::size_t max) const {
    const std::lock_guard lock(mutex_);
    return errors_.describe(max);
}

std::size_t ResumingSwarm::viewers_at(const std::string& id) const {
    const std::lock_guard lock(mutex_);
    const auto it = id_index_.find(id);
    if (it == id_index_.end()) {
        return 0;
    }
    return static_cast<std::size_t>(
        std::count_if(viewers_.begin(), viewers_.end(), [&](const auto& viewer) {
            return !viewer->ids.empty() && viewer->ids.back() == it->second;
        }));
}

std::size_t ResumingSwarm::viewers_with_exactly(const std::vector<std::string>& ids) const {
    const std::lock_guard lock(mutex_);
    std::vector<std::uint32_t> wanted;
    wanted.reserve(ids.size());
    for (const auto& id : ids) {
        const auto it = id_index_.find(id);
        if (it == id_index_.end()) {
            return 0;  // nobody got this one
        }
        wanted.push_back(it->second);
    }
    return static_cast<std::size_t>(
        std::count_if(viewers_.begin(), viewers_.end(),
                      [&](const auto& viewer) { return viewer->ids == wanted; }));
}

}  // namespace bscd::test
