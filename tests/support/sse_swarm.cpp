#include "support/sse_swarm.hpp"

#include <algorithm>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "support/sse_stream.hpp"
#include "support/wait.hpp"

namespace bscd::test {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

struct SseSwarm::Viewer {
    explicit Viewer(asio::io_context& io) : socket(io) {}
    enum class State : std::uint8_t { Waiting, Connecting, Streaming, Failed };
    tcp::socket socket;
    State state = State::Waiting;
    HttpStreamDecoder decoder;
    SseParser parser;
    std::vector<Arrival> arrivals;  // under mutex_
};

SseSwarm::SseSwarm(int port, const std::string& target, std::size_t viewers,
                   const HttpHeaders& headers, std::size_t max_connecting)
    : size_(viewers),
      port_(port),
      max_connecting_(std::max<std::size_t>(max_connecting, 1)),
      buffer_(std::size_t{64} * 1024) {
    raise_open_files_limit();
    request_ = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
               "\r\nAccept: text/event-stream\r\n";
    for (const auto& [key, value] : headers) {
        request_.append(key).append(": ").append(value).append("\r\n");
    }
    request_ += "\r\n";
    viewers_.reserve(viewers);
    for (std::size_t i = 0; i < viewers; ++i) {
        viewers_.push_back(std::make_unique<Viewer>(loop_.io()));
    }
    loop_.post([this] { connect_more(); });
}

SseSwarm::~SseSwarm() {
    close();
}

void SseSwarm::close() {
    loop_.close([this] {
        closing_ = true;
        for (auto& viewer : viewers_) {
            error_code ignored;
            viewer->socket.close(ignored);
        }
    });
}

void SseSwarm::connect_more() {
    while (!closing_ && next_ < viewers_.size() && connecting_ < max_connecting_) {
        ++connecting_;
        connect(*viewers_[next_++]);
    }
}

void SseSwarm::connect(Viewer& viewer) {
    viewer.state = Viewer::State::Connecting;
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"),
                                 static_cast<unsigned short>(port_));
    viewer.socket.async_connect(endpoint, [this, &viewer](const error_code& ec) {
        if (ec) {
            fail(viewer, "connect: " + ec.message());
            return;
        }
        asio::async_write(viewer.socket, asio::buffer(request_),
                          [this, &viewer](const error_code& write_error, std::size_t) {
                              if (write_error) {
                                  fail(viewer, "write: " + write_error.message());
                                  return;
                              }
                              viewer.socket.non_blocking(true);
                              wait_readable(viewer);
                          });
    });
}

void SseSwarm::wait_readable(Viewer& viewer) {
    viewer.socket.async_wait(tcp::socket::wait_read, [this, &viewer](const error_code& ec) {
        if (ec) {
            fail(viewer, "wait: " + ec.message());
            return;
        }
        on_readable(viewer);
    });
}

void SseSwarm::on_readable(Viewer& viewer) {
    std::string body;
    std::string ended;  // why the stream ended, when it did
    for (;;) {
        error_code ec;
        const std::size_t n = viewer.socket.read_some(asio::buffer(buffer_), ec);
        if (!viewer.decoder.feed(std::string_view(buffer_.data(), n), body)) {
            fail(viewer, "bad response: " + viewer.decoder.error());
            return;
        }
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            break;
        }
        if (ec) {
            ended = ec == asio::error::eof ? "stream ended (EOF)" : "stream ended: " + ec.message();
            break;
        }
    }
    if (viewer.state == Viewer::State::Connecting && viewer.decoder.head_done()) {
        if (viewer.decoder.status() != 200) {
            fail(viewer, "status " + std::to_string(viewer.decoder.status()));
            return;
        }
        --connecting_;
        viewer.decoder.drop_headers();
        viewer.state = Viewer::State::Streaming;
        {
            const std::lock_guard lock(mutex_);
            ++streaming_;
        }
        connect_more();
    }
    viewer.parser.feed(body);
    if (!viewer.parser.events().empty()) {
        const auto now = Clock::now();
        const std::lock_guard lock(mutex_);
        for (const SseEvent& event : viewer.parser.events()) {
            if (event.id.empty() || event.event != "status" || !event.other_lines.empty() ||
                event.data_lines != 1) {
                ++malformed_;
            }
            const std::uint32_t index = intern(event.id);
            viewer.arrivals.push_back({index, now});
            ++id_counts_[index];
        }
        viewer.parser.clear_events();
    }
    viewer.parser.clear_comments();
    if (ended.empty() && viewer.decoder.body_done()) {
        ended = "stream ended (framing)";
    }
    if (!ended.empty()) {
        fail(viewer, ended);
        return;
    }
    wait_readable(viewer);
}

void SseSwarm::fail(Viewer& viewer, std::string reason) {
    if (viewer.state == Viewer::State::Failed) {
        return;
    }
    const bool was_connecting = viewer.state == Viewer::State::Connecting;
    const bool was_streaming = viewer.state == Viewer::State::Streaming;
    viewer.state = Viewer::State::Failed;
    error_code ignored;
    viewer.socket.close(ignored);
    if (was_connecting) {
        --connecting_;
        connect_more();
    }
    if (closing_) {
        return;
    }
    const std::lock_guard lock(mutex_);
    if (was_streaming) {
        --streaming_;
    }
    failures_.add(std::move(reason));
}

std::uint32_t SseSwarm::intern(const std::string& id) {
    const auto [it, inserted] =
        id_index_.emplace(id, static_cast<std::uint32_t>(id_counts_.size()));
    if (inserted) {
        id_counts_.push_back(0);
    }
    return it->second;
}

std::size_t SseSwarm::streaming() const {
    const std::lock_guard lock(mutex_);
    return streaming_;
}

std::size_t SseSwarm::failed() const {
    const std::lock_guard lock(mutex_);
    return failures_.count;
}

bool SseSwarm::wait_streaming(std::chrono::milliseconds timeout) {
    return wait_until([&] { return failed() > 0 || streaming() == size_; }, timeout) &&
           streaming() == size_;
}

std::size_t SseSwarm::received(const std::string& id) const {
    const std::lock_guard lock(mutex_);
    const auto it = id_index_.find(id);
    return it == id_index_.end() ? 0 : id_counts_[it->second];
}

bool SseSwarm::wait_received(const std::string& id, std::chrono::milliseconds timeout) {
    return wait_until([&] { return received(id) >= size_; }, timeout);
}

std::vector<std::optional<SseSwarm::Clock::time_point>> SseSwarm::arrival_times(
    const std::string& id) const {
    std::vector<std::optional<Clock::time_point>> times(viewers_.size());
    const std::lock_guard lock(mutex_);
    const auto it = id_index_.find(id);
    if (it == id_index_.end()) {
        return times;
    }
    for (std::size_t i = 0; i < viewers_.size(); ++i) {
        for (const Arrival& arrival : viewers_[i]->arrivals) {
            if (arrival.id == it->second) {
                times[i] = arrival.at;
                break;
            }
        }
    }
    return times;
}

std::size_t SseSwarm::malformed_events() const {
    const std::lock_guard lock(mutex_);
    return malformed_;
}

std::size_t SseSwarm::viewers_with_exactly(const std::vector<std::string>& ids) const {
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
    std::size_t exact = 0;
    for (const auto& viewer : viewers_) {
        exact += std::equal(
            viewer->arrivals.begin(), viewer->arrivals.end(), wanted.begin(), wanted.end(),
            [](const Arrival& arrival, std::uint32_t id) { return arrival.id == id; });
    }
    return exact;
}

std::size_t SseSwarm::events_received() const {
    const std::lock_guard lock(mutex_);
    std::size_t total = 0;
    for (const std::size_t count : id_counts_) {
        total += count;
    }
    return total;
}

std::string SseSwarm::failures(std::size_t max) const {
    const std::lock_guard lock(mutex_);
    return failures_.describe(max);
}

}  // namespace bscd::test
