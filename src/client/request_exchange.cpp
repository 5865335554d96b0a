#include "client/request_exchange.hpp"

#include <cstddef>
#include <optional>

#include "client/client_error.hpp"
#include "client/producer_connection.hpp"
#include "core/request.hpp"

namespace bscd::client {

namespace {

// Failures collected while reading the replies: the first one is the line
// the user sees.
class Problems {
public:
    explicit Problems(std::size_t total) : total_(total) {}

    void add(const std::string& message, std::size_t count = 1) {
        if (!first_) {
            first_ = message;
        }
        count_ += count;
    }

    void throw_if_any() const {
        if (!first_) {
            return;
        }
        std::string message = *first_;
        if (count_ > 1) {
            message += " (" + std::to_string(count_) + " of " + std::to_string(total_) +
                       " requests failed)";
        }
        throw ClientError(message);
    }

private:
    std::size_t total_;
    std::size_t count_ = 0;
    std::optional<std::string> first_;
};

// A request as the user typed it, escaped; "" for the empty one.
std::string quoted_request(const std::string& request) {
    return request.empty() ? "\"\"" : printable(request, 60);
}

}  // namespace

std::string request_problem(std::string_view request) {
    if (request.find('\n') != std::string_view::npos) {
        return "a request cannot contain a newline: " + printable(request, 60);
    }
    return {};
}

void send_requests(const std::string& socket, const std::vector<std::string>& requests,
                   std::chrono::milliseconds timeout) {
    std::string payload;
    for (const std::string& request : requests) {
        if (std::string problem = request_problem(request); !problem.empty()) {
            throw ClientError(problem, ClientError::usage);
        }
        payload += request;
        payload += '\n';
    }

    ProducerConnection connection(socket, timeout);
    // If bscd closed early, the replies it wrote before that still tell why.
    if (connection.write_all(payload) == ProducerConnection::WriteResult::TimedOut) {
        throw ClientError("could not send the requests to bscd within " + format_seconds(timeout));
    }

    Problems problems(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto reply = connection.read_line();
        const std::size_t unanswered = requests.size() - i;
        if (reply.status == ProducerConnection::ReadStatus::TimedOut) {
            problems.add("no answer from bscd within " + format_seconds(timeout) +
                             (i > 0 ? " to request " + quoted_request(requests[i]) : ""),
                         unanswered);
            break;
        }
        if (reply.status == ProducerConnection::ReadStatus::Closed) {
            problems.add("bscd closed the connection before answering" +
                             (i > 0 ? " request " + quoted_request(requests[i]) : ""),
                         unanswered);
            break;
        }
        const std::string& line = reply.line;
        if (line == "OK") {
            continue;
        }
        if (line == "ERR" || line.starts_with("ERR ")) {
            const std::string reason = line.size() > 4 ? printable(line.substr(4), 200) : "";
            problems.add("bscd answered ERR" + (reason.empty() ? "" : " " + reason) +
                         " to request " + quoted_request(requests[i]));
            continue;
        }
        problems.add("unexpected answer from bscd to request " + quoted_request(requests[i]) +
                         ": " + printable(line, 80),
                     unanswered);
        break;  // replies and requests no longer line up
    }
    problems.throw_if_any();
}

}  // namespace bscd::client
