#include "support/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <sys/resource.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace bscd::test {

namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

enum class ParseResult { Complete, NeedMore, Failed };

// Parses one response from the start of `bytes`: on Complete, `used` is its
// length. `eof`: no more bytes will come (a body delimited by the end of the
// connection is complete then).
ParseResult parse_response(std::string_view bytes, bool head, bool eof, HttpResponse& response,
                           std::size_t& used) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(1024 * 1024);
    parser.body_limit(boost::none);
    parser.eager(true);
    if (head) {
        parser.skip(true);
    }
    used = 0;
    error_code ec;
    while (!parser.is_done() && used < bytes.size()) {
        const std::size_t n =
            parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        used += n;
        if (ec == http::error::need_more) {
            ec = {};
            break;
        }
        if (ec) {
            response.error = "malformed response: " + ec.message();
            return ParseResult::Failed;
        }
        if (n == 0) {
            break;
        }
    }
    if (!parser.is_done() && eof && parser.got_some()) {
        parser.put_eof(ec);
        if (ec) {
            response.error = "connection closed mid-response: " + ec.message();
            return ParseResult::Failed;
        }
    }
    if (!parser.is_done()) {
        return ParseResult::NeedMore;
    }
    const auto& message = parser.get();
    response.status = static_cast<int>(message.result_int());
    response.reason = std::string(message.reason());
    for (const auto& field : message) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = message.body();
    return ParseResult::Complete;
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) {
            return value;
        }
    }
    return {};
}

bool HttpResponse::has_header(std::string_view name) const {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& field) { return iequals(field.first, name); });
}

std::string HttpResponse::describe() const {
    if (status == 0) {
        return "no response (" + error + (closed ? ", connection closed" : "") + ")";
    }
    std::string text = std::to_string(status) + " " + reason + " [";
    for (const auto& [key, value] : headers) {
        text.append(key).append(": ").append(value).append("; ");
    }
    text += "] ";
    text += body.size() > 2000 ? body.substr(0, 2000) + "..." : body;
    return text;
}

HttpConnection::HttpConnection(int port, const BlockingSocket::Options& options)
    : port_(port), socket_(port, options) {}

void HttpConnection::send(std::string_view bytes, std::chrono::milliseconds timeout) {
    socket_.write(bytes, timeout);
}

void HttpConnection::send_request(const std::string& method, const std::string& target,
                                  const HttpHeaders& headers, const std::string& body) {
    std::string request = method + " " + target + " HTTP/1.1\r\n";
    request += "Host: 127.0.0.1:" + std::to_string(port_) + "\r\n";
    for (const auto& [key, value] : headers) {
        request.append(key).append(": ").append(value).append("\r\n");
    }
    if (!body.empty()) {
        request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n" + body;
    send(request);
}

HttpResponse HttpConnection::read_response(std::chrono::milliseconds timeout, bool head) {
    const auto deadline = BlockingSocket::Clock::now() + timeout;
    for (;;) {
        HttpResponse response;
        std::size_t used = 0;
        const ParseResult result =
            pending_.empty() && !socket_.closed()
                ? ParseResult::NeedMore
                : parse_response(pending_, head, socket_.closed(), response, used);
        if (result == ParseResult::Complete) {
            pending_.erase(0, used);
            response.closed = socket_.closed() && pending_.empty();
            return response;
        }
        if (result == ParseResult::Failed) {
            response.closed = socket_.closed();
            return response;
        }
        if (socket_.closed()) {
            response.closed = true;
            response.error = pending_.empty()
                                 ? "connection closed without a response (" +
                                       socket_.close_error().message() + ")"
                                 : "connection closed mid-response: " + pending_.substr(0, 200);
            return response;
        }
        if (!socket_.read_some(pending_, deadline) && !socket_.closed()) {
            response.error = "timed out; received so far: " + pending_.substr(0, 200);
            return response;
        }
    }
}

namespace {

// On a new connection: `write` sends the request; then one response is read
// (also when the write failed: the server may answer and close before it
// read everything).
template <typename Write>
HttpResponse exchange_once(int port, std::chrono::milliseconds timeout, bool head, Write write) {
    HttpResponse response;
    try {
        HttpConnection connection(port, {.receive_buffer = 0, .connect_timeout = timeout});
        std::string write_error;
        try {
            write(connection);
        } catch (const std::exception& e) {
            write_error = e.what();
        }
        response = connection.read_response(timeout, head);
        if (response.status == 0 && !write_error.empty()) {
            response.error = write_error + "; then " + response.error;
        }
    } catch (const std::exception& e) {
        response.error = e.what();
    }
    return response;
}

}  // namespace

HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const HttpHeaders& headers, const std::string& body,
                          std::chrono::milliseconds timeout) {
    HttpHeaders all = headers;
    all.emplace_back("Connection", "close");
    return exchange_once(port, timeout, method == "HEAD", [&](HttpConnection& connection) {
        connection.send_request(method, target, all, body);
    });
}

HttpResponse http_raw(int port, std::string_view bytes, std::chrono::milliseconds timeout) {
    return exchange_once(port, timeout, false,
                         [&](HttpConnection& connection) { connection.send(bytes, timeout); });
}

long raise_open_files_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return -1;
    }
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return static_cast<long>(limit.rlim_cur);
}

}  // namespace bscd::test
