#include "support/redis_server.hpp"

#include <signal.h>
#include <stdexcept>

#include <hiredis/hiredis.h>

#include "support/free_port.hpp"
#include "support/wait.hpp"

namespace bscd::test {

RedisServer::RedisServer() : RedisServer(Options{}) {}

RedisServer::RedisServer(Options options) : options_(std::move(options)) {
    std::string failures;
    for (int attempt = 1; attempt <= free_port_attempts; ++attempt) {
        port_ = options_.pick_port ? options_.pick_port() : free_port();
        std::string failure;
        if (launch(failure)) {
            return;
        }
        failures += "attempt " + std::to_string(attempt) + " (port " + std::to_string(port_) +
                    "): " + failure + "\n";
    }
    throw std::runtime_error("redis-server did not start:\n" + failures + "log:\n" + log());
}

RedisServer::~RedisServer() {
    kill();
}

std::vector<std::string> RedisServer::arguments() const {
    std::vector<std::string> args = {REDIS_SERVER_BIN,
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     host_,
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--unixsocket",
                                     unix_socket(),
                                     "--unixsocketperm",
                                     "700",
                                     "--daemonize",
                                     "no",
                                     "--dir",
                                     dir_.path(),
                                     "--logfile",
                                     dir_.file("redis.log")};
    if (!options_.requirepass.empty()) {
        args.insert(args.end(), {"--requirepass", options_.requirepass});
    }
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    return args;
}

bool RedisServer::ready() const {
    // PONG proves a Redis listens on the port; its process id proves it is
    // ours and not another test's that won a race for the same port.
    try {
        auto context =
            connect_redis(host_, port_, std::chrono::milliseconds(200), options_.requirepass);
        const Reply pong = redis_command(context.get(), {"PING"});
        if (pong.type != Reply::Status || pong.str != "PONG") {
            return false;
        }
        const Reply info = redis_command(context.get(), {"INFO", "server"});
        return info.str.find("\nprocess_id:" + std::to_string(pid()) + "\r") != std::string::npos;
    } catch (const std::exception&) {
        return false;
    }
}

bool RedisServer::launch(std::string& failure) {
    process_.emplace(arguments());
    paused_ = false;
    bool exited = false;
    const bool up = wait_until(
        [&] {
            exited = !process_->running();
            return exited || ready();
        },
        options_.start_timeout);
    if (up && !exited) {
        return true;
    }
    if (exited) {
        failure = "exited with status " + std::to_string(process_->exit_code().value_or(-1));
    } else {
        failure = "no PONG within " + std::to_string(options_.start_timeout.count()) + " ms";
        process_->kill();
    }
    forget_process();
    return false;
}

void RedisServer::forget_process() {
    context_.reset();
    if (process_) {
        previous_output_ += process_->output();
        process_.reset();
    }
    paused_ = false;
}

bool RedisServer::running() {
    return process_ && process_->running();
}

void RedisServer::stop() {
    if (!process_) {
        return;
    }
    process_->signal(SIGTERM);
    if (paused_) {
        process_->signal(SIGCONT);
    }
    if (!process_->wait(std::chrono::seconds(10))) {
        process_->kill();
    }
    forget_process();
}

void RedisServer::start() {
    if (running()) {
        return;
    }
    forget_process();
    std::string failure;
    if (!launch(failure)) {
        throw std::runtime_error("redis-server did not restart on port " + std::to_string(port_) +
                                 ": " + failure + "\nlog:\n" + log());
    }
}

void RedisServer::kill() {
    if (!process_) {
        return;
    }
    process_->kill();
    forget_process();
}

void RedisServer::pause() {
    if (process_ && !paused_) {
        process_->signal(SIGSTOP);
        paused_ = true;
    }
}

void RedisServer::resume() {
    if (process_ && paused_) {
        process_->signal(SIGCONT);
        paused_ = false;
    }
}

std::string RedisServer::log() const {
    std::string result = previous_output_;
    if (process_) {
        result += process_->output();
    }
    return result + read_file(dir_.file("redis.log"));
}

std::map<std::string, long long> RedisServer::command_calls() {
    std::map<std::string, long long> calls;
    const std::string text = command({"INFO", "commandstats"}).str;
    std::size_t at = 0;
    while ((at = text.find("cmdstat_", at)) != std::string::npos) {
        const auto colon = text.find(':', at);
        const auto value = text.find("calls=", colon);
        if (colon == std::string::npos || value == std::string::npos) {
            break;
        }
        calls[text.substr(at + 8, colon - at - 8)] = std::stoll(text.substr(value + 6));
        at = colon;
    }
    return calls;
}

long long RedisServer::calls_of(const std::string& name) {
    const auto calls = command_calls();
    const auto it = calls.find(name);
    return it == calls.end() ? 0 : it->second;
}

long long RedisServer::errors_of(const std::string& code) {
    const std::string text = command({"INFO", "errorstats"}).str;
    const std::string field = "errorstat_" + code + ":count=";
    const auto at = text.find(field);
    return at == std::string::npos ? 0 : std::stoll(text.substr(at + field.size()));
}

Reply RedisServer::command(const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout) {
    if (context_ && !idle_and_open(context_.get())) {
        context_.reset();  // closed by the server (restart, CLIENT KILL, idle timeout)
    }
    if (!context_) {
        context_ = connect_redis(host_, port_, timeout, options_.requirepass);
    } else {
        const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                         static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
        redisSetTimeout(context_.get(), tv);
    }
    try {
        return redis_command(context_.get(), args);
    } catch (...) {
        context_.reset();  // a broken connection: connect again next time
        throw;
    }
}

}  // namespace bscd::test
