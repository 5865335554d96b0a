#include "support/background_loop.hpp"

namespace bscd::test {

BackgroundLoop::BackgroundLoop() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}

BackgroundLoop::~BackgroundLoop() {
    close();
}

void BackgroundLoop::close() {
    if (!thread_.joinable()) {
        return;
    }
    work_.reset();
    thread_.join();
}

}  // namespace bscd::test
