#pragma once
// Test-side HTTP/1.1 over TCP to 127.0.0.1, blocking with deadlines:
// one-shot requests (http_get, http_request, http_raw) and a connection kept
// open (HttpConnection) for keep-alive, held connections and malformed
// requests. Responses are parsed with Boost.Beast.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/blocking_socket.hpp"

namespace bscd::test {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
    int status = 0;  // 0: no whole response (see error)
    std::string reason;
    HttpHeaders headers;  // as received, in order
    std::string body;
    std::string error;    // why status is 0
    bool closed = false;  // the server closed the connection (after or instead of a response)

    // The first value of header `name` (case-insensitive); "" when absent.
    std::string header(std::string_view name) const;
    bool has_header(std::string_view name) const;
    // "404 Not Found [headers] body" or the error: for failure messages.
    std::string describe() const;
};

class HttpConnection {
public:
    // Connects to 127.0.0.1:port; throws std::runtime_error on failure.
    explicit HttpConnection(int port, const BlockingSocket::Options& options = {});

    // Sends bytes as they are (requests, fragments of requests, garbage).
    void send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Sends a well-formed request: `method target HTTP/1.1`, Host, `headers`,
    // and Content-Length when `body` is not empty.
    void send_request(const std::string& method, const std::string& target,
                      const HttpHeaders& headers = {}, const std::string& body = {});

    // Reads one whole response; bytes after it stay for the next call. A
    // response to HEAD has no body: say so with `head`. On timeout or when
    // the connection closes first: status 0 and error set.
    HttpResponse read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                               bool head = false);

    // Bytes received after the last response read (e.g. WebSocket frames
    // after a 101), handed over and forgotten here.
    std::string take_pending() { return std::exchange(pending_, {}); }

    // Reads (discarding) until the server closes or resets the connection:
    // true when it did within `timeout`.
    bool wait_closed(std::chrono::milliseconds timeout) { return socket_.wait_closed(timeout); }
    bool closed() const { return socket_.closed(); }
    void close() { socket_.close(); }
    BlockingSocket& socket() { return socket_; }
    int port() const { return port_; }

private:
    int port_;
    BlockingSocket socket_;
    std::string pending_;  // received, not parsed into a response yet
};

// One request on a new connection (with `Connection: close`); connection
// failures come back as status 0 with error set, never as exceptions.
HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const HttpHeaders& headers = {}, const std::string& body = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(5));

inline HttpResponse http_get(int port, const std::string& target, const HttpHeaders& headers = {},
                             std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return http_request(port, "GET", target, headers, {}, timeout);
}

// Sends `bytes` as they are on a new connection and reads one response (or
// the connection's end: status 0, closed true). For malformed requests.
HttpResponse http_raw(int port, std::string_view bytes,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Raises the soft RLIMIT_NOFILE to the hard limit (for thousands of
// sockets); returns the new soft limit.
long raise_open_files_limit();

}  // namespace bscd::test
