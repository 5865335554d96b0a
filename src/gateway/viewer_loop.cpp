#include "gateway/viewer_loop.hpp"

#include <algorithm>

#include "gateway/gateway.hpp"
#include "gateway/loop_feed.hpp"

namespace bscd {

ViewerLoop::ViewerLoop(std::size_t index, Gateway& gateway)
    : index_(index),
      gateway_(gateway),
      io_(std::make_unique<boost::asio::io_context>(1)),  // one thread runs it
      ticker_(std::make_unique<boost::asio::steady_timer>(*io_)) {
    tick();
}

ViewerLoop::~ViewerLoop() {
    close();
}

const GatewayOptions& ViewerLoop::options() const {
    return gateway_.options();
}

std::shared_ptr<LoopFeed> ViewerLoop::follow(const std::string& project) {
    auto& feed = feeds_[project];
    if (!feed) {
        feed = std::make_shared<LoopFeed>(project, *this);
        gateway_.attach(feed);
    } else {
        metrics_.follows_coalesced.add();
    }
    return feed;
}

void ViewerLoop::forget(const LoopFeed& feed) {
    const auto it = feeds_.find(feed.project());
    if (it != feeds_.end() && it->second.get() == &feed) {
        gateway_.detach(it->second);
        feeds_.erase(it);
    }
}

void ViewerLoop::tick() {
    // Often enough for the heartbeat, and for a wait for the history to
    // end within a second of its time.
    const auto period = std::clamp<std::chrono::milliseconds>(
        gateway_.options().heartbeat / 4, std::chrono::milliseconds(10), std::chrono::seconds(1));
    ticker_->expires_after(period);
    ticker_->async_wait([this](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        // A viewer's tick may close its socket but never destroys it (its
        // pending operations hold it): the list stays valid.
        for (auto it = viewers_.begin(); it != viewers_.end();) {
            Viewer& viewer = *it++;
            viewer.on_tick(now);
        }
        tick();
    });
}

void ViewerLoop::close() {
    ticker_.reset();
    io_.reset();
    viewers_.clear();
    feeds_.clear();
}

}  // namespace bscd
