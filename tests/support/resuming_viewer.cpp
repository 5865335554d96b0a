#include "support/resuming_viewer.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

namespace bscd::test {

using namespace std::chrono_literals;

namespace {

// How long one read waits before checking for stop().
constexpr auto poll_interval = 100ms;

}  // namespace

ResumingViewer::ResumingViewer(int port, std::string path, Options options)
    : port_(port),
      path_(std::move(path)),
      options_(options),
      thread_([this](const std::stop_token& stop) { run(stop); }) {}

ResumingViewer::~ResumingViewer() {
    stop();
}

void ResumingViewer::stop() {
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
    }
}

void ResumingViewer::run(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
        try {
            if (options_.transport == Transport::Sse) {
                view_sse(stop);
            } else {
                view_websocket(stop);
            }
        } catch (const std::runtime_error& e) {
            // Refused or reset: the gateway is (re)starting. A refusal in
            // words ("HTTP 503 ...") is an answer, and not one expected here.
            if (std::string(e.what()).starts_with("HTTP ")) {
                error(e.what());
            }
        }
        std::unique_lock lock(mutex_);
        if (finished_) {
            return;
        }
        wake_.wait_for(lock, stop, options_.retry, [] { return false; });
    }
}

void ResumingViewer::view_sse(const std::stop_token& stop) {
    SseClient::Options options;
    if (const std::string last = last_id(); !last.empty()) {
        options.headers.emplace_back("Last-Event-ID", last);
    }
    SseClient client(port_, path_, options);
    if (client.status() == 204) {  // EventSource stops reconnecting
        const std::lock_guard lock(mutex_);
        finished_ = true;
        return;
    }
    if (client.status() != 200) {
        error("status " + std::to_string(client.status()) + ": " + client.body());
        return;
    }
    {
        const std::lock_guard lock(mutex_);
        ++connections_;
    }
    while (!stop.stop_requested()) {
        if (auto event = client.next_event(poll_interval)) {
            const auto data = nlohmann::json::parse(event->data, nullptr, false);
            if (event->id.empty() || event->event != "status" || event->data_lines != 1 ||
                !event->other_lines.empty() || !data.is_object() ||
                data.value("id", "") != event->id) {
                error("malformed event " + event->id + ": " + event->data);
            }
            add(std::move(event->id));
        } else if (client.ended()) {
            if (!client.error().empty()) {
                error("bad framing: " + client.error());
            }
            return;  // reconnect, as EventSource does
        }
    }
}

void ResumingViewer::view_websocket(const std::stop_token& stop) {
    const std::string last = last_id();
    WsClient client(port_, last.empty() ? path_ : path_ + "?after=" + last);
    {
        const std::lock_guard lock(mutex_);
        ++connections_;
    }
    while (!stop.stop_requested()) {
        if (auto message = client.next_text(poll_interval)) {
            const auto data = nlohmann::json::parse(*message, nullptr, false);
            std::string id = data.is_object() ? data.value("id", "") : "";
            if (id.empty()) {
                error("malformed message: " + *message);
            }
            add(std::move(id));
        } else if (client.closed()) {
            if (client.close_code() == 1000) {  // the build is over
                const std::lock_guard lock(mutex_);
                finished_ = true;
            }
            return;
        }
    }
}

void ResumingViewer::add(std::string id) {
    const std::lock_guard lock(mutex_);
    ids_.push_back(std::move(id));
}

void ResumingViewer::error(std::string what) {
    const std::lock_guard lock(mutex_);
    if (errors_.size() < 20) {
        errors_.push_back(std::move(what));
    }
}

std::string ResumingViewer::last_id() const {
    const std::lock_guard lock(mutex_);
    return ids_.empty() ? std::string() : ids_.back();
}

std::vector<std::string> ResumingViewer::ids() const {
    const std::lock_guard lock(mutex_);
    return ids_;
}

std::size_t ResumingViewer::count() const {
    const std::lock_guard lock(mutex_);
    return ids_.size();
}

std::size_t ResumingViewer::connections() const {
    const std::lock_guard lock(mutex_);
    return connections_;
}

bool ResumingViewer::finished() const {
    const std::lock_guard lock(mutex_);
    return finished_;
}

std::vector<std::string> ResumingViewer::errors() const {
    const std::lock_guard lock(mutex_);
    return errors_;
}

}  // namespace bscd::test
