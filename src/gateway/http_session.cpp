#include "gateway/http_session.hpp"

#include <random>
#include <variant>

#include <spdlog/spdlog.h>

#include "core/log_text.hpp"
#include "gateway/lingering_close.hpp"
#include "gateway/metrics.hpp"
#include "gateway/refusal_log.hpp"
#include "gateway/sse_session.hpp"
#include "gateway/web_assets.hpp"
#include "gateway/websocket_session.hpp"

namespace bscd {

namespace beast = boost::beast;

namespace {

// The page's data comes from its own origin's API; nothing from elsewhere.
constexpr std::string_view page_policy =
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

std::string peer_name(const boost::asio::ip::tcp::socket& socket) {
    boost::system::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    if (ec) {
        return "unknown peer";
    }
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

std::optional<IpAddress> peer_address(const boost::asio::ip::tcp::socket& socket) {
    boost::system::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    if (ec) {
        return std::nullopt;
    }
    IpAddress address;
    const auto& address_v6 = endpoint.address().is_v4()
                                 ? boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped,
                                                                    endpoint.address().to_v4())
                                 : endpoint.address().to_v6();
    address.bytes = address_v6.to_bytes();
    return address;
}

// Every X-Forwarded-For field of `request`, in order, joined with commas
// (a list split over fields is one list, RFC 9110 5.3).
std::string forwarded_for(const HttpRequest& request) {
    std::string joined;
    const auto [first, last] = request.equal_range("X-Forwarded-For");
    for (auto field = first; field != last; ++field) {
        if (!joined.empty()) {
            joined += ',';
        }
        joined.append(field->value());
    }
    return joined;
}

// A viewer refused for a full project comes back after 5 to 15 s, drawn
// for each, so that the refused do not all come back at once.
std::chrono::seconds project_full_retry() {
    thread_local std::minstd_rand draw{std::random_device{}()};
    std::uniform_int_distribution<int> seconds(5, 15);
    return std::chrono::seconds(seconds(draw));
}

// One line per refusal (capped by refusal_log()); what the client sent is
// quoted escaped and cut (quoted_for_log).
void log_refusal(const HttpRequest& request, const Route& route, const Answer& answer,
                 const std::string& peer) {
    switch (answer.refusal) {
        case Refusal::Token:
            if (route.project.empty()) {
                spdlog::info("Refused {} the list of builds: missing or wrong operator's token",
                             peer);
            } else {
                spdlog::info("Refused {} access to project {}: missing or wrong token", peer,
                             quoted_for_log(route.project));
            }
            return;
        case Refusal::Origin:
            spdlog::info("Refused a WebSocket for project {} to {}: origin {} not allowed",
                         quoted_for_log(route.project), peer,
                         quoted_for_log(request[http::field::origin]));
            return;
        case Refusal::Framing:
            spdlog::info("Refused a request from {}: {} (Transfer-Encoding {}); closing", peer,
                         answer.message, quoted_for_log(request[http::field::transfer_encoding]));
            return;
        case Refusal::Rate:
            if (route.project.empty()) {
                spdlog::info("Refused {} a request: {}", peer, answer.message);
            } else {
                spdlog::info("Refused {} a request for project {}: {}", peer,
                             quoted_for_log(route.project), answer.message);
            }
            return;
        case Refusal::Full:
            spdlog::info("Refused {} a viewer of project {}: {}", peer,
                         quoted_for_log(route.project), answer.message);
            return;
        case Refusal::None:
            return;
    }
}

}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, ViewerLoop& loop, Gateway::Slot slot)
    : stream_(std::move(socket)),
      loop_(loop),
      gateway_(loop.gateway()),
      slot_(std::move(slot)),
      peer_(peer_name(stream_.socket())),
      peer_address_(peer_address(stream_.socket())) {}

void HttpSession::start() {
    read_request();
}

void HttpSession::read_request() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(body_limit);
    // Covers the wait for a request and its arrival: slow senders are cut too.
    stream_.expires_after(gateway_.options().idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t /*bytes*/) {
                         self->on_read(ec);
                     });
}

void HttpSession::on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == boost::asio::error::operation_aborted || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset) {
        if (ec == beast::error::timeout) {
            spdlog::debug("Closing idle connection from {}", peer_);
        }
        beast::error_code ignored;
        stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        return;
    }
    if (ec == http::error::header_limit) {
        send(error_response(http::status::request_header_fields_too_large,
                            "request header larger than 8 KiB"));
        return;
    }
    if (ec == http::error::body_limit) {
        send(error_response(http::status::payload_too_large, "request body larger than 4 KiB"));
        return;
    }
    if (ec) {
        spdlog::debug("Bad request from {}: {}", peer_, ec.message());
        send(error_response(http::status::bad_request, "malformed HTTP request"));
        return;
    }
    handle(parser_->release());
}

void HttpSession::handle(const HttpRequest& request) {
    const Route route = parse_route(request.target());
    if (const auto refused = over_rate(request, route)) {
        carry_out(request, route, *refused);
        return;
    }
    const Decision decision = decide(request, route, gateway_.options(),
                                     [this](const std::string& project, std::string_view token) {
                                         return gateway_.admits(project, token);
                                     });
    std::visit([&](const auto& what) { carry_out(request, route, what); }, decision);
}

std::optional<Answer> HttpSession::over_rate(const HttpRequest& request, const Route& route) {
    if (!peer_address_) {
        return std::nullopt;
    }
    Admission& admission = gateway_.admission();
    const auto wait =
        admission.over_rate(admission.client_of(*peer_address_, forwarded_for(request)), route);
    if (!wait) {
        return std::nullopt;
    }
    return over_rate_answer(*wait);
}

bool HttpSession::seated(const HttpRequest& request, const Route& route) {
    if (slot_.take_seat(route.project)) {
        return true;
    }
    carry_out(request, route,
              project_full_answer(route.project, gateway_.options().max_project_viewers,
                                  project_full_retry()));
    return false;
}

std::string HttpSession::who(const HttpRequest& request) const {
    if (!peer_address_) {
        return peer_;
    }
    const IpAddress client = gateway_.admission().client_of(*peer_address_, forwarded_for(request));
    if (client == *peer_address_) {
        return peer_;
    }
    return client.to_string() + " (via " + peer_ + ")";
}

void HttpSession::carry_out(const HttpRequest& request, const Route& route, const Answer& answer) {
    if (answer.refusal != Refusal::None) {
        const std::string refused = who(request);
        if (refusal_log().admit(refused)) {
            log_refusal(request, route, answer, refused);
        }
    }
    auto response = error_response(request, gateway_.options(), answer.status, answer.message);
    if (!answer.allow.empty()) {
        response.set(http::field::allow, answer.allow);
    }
    if (answer.websocket_version) {
        response.set(http::field::sec_websocket_version, "13");
    }
    if (answer.close) {
        response.keep_alive(false);  // nothing after this request is read
    }
    if (answer.retry_after) {
        response.set(http::field::retry_after, std::to_string(answer.retry_after->count()));
    }
    send(std::move(response));
}

void HttpSession::carry_out(const HttpRequest& request, const Route& /*route*/,
                            const Preflight& /*preflight*/) {
    send(preflight_response(request, gateway_.options()));
}

void HttpSession::carry_out(const HttpRequest& request, const Route& route, const Serve& serve) {
    const auto& options = gateway_.options();
    switch (serve.resource) {
        case Resource::Health:
            gateway_.health(stream_.get_executor(), [self = shared_from_this(), request](bool up) {
                self->send(make_response(request, self->gateway_.options(),
                                         up ? http::status::ok : http::status::service_unavailable,
                                         "text/plain; charset=utf-8",
                                         up ? "ok\n" : "redis unavailable\n"));
            });
            return;
        case Resource::Metrics:
            gateway_.metrics_text(
                stream_.get_executor(), [self = shared_from_this(), request](std::string text) {
                    self->send(make_response(request, self->gateway_.options(), http::status::ok,
                                             metrics_content_type, std::move(text)));
                });
            return;
        case Resource::Asset: {
            const WebAsset* asset = find_web_asset(route.asset);
            if (asset == nullptr) {
                send(error_response(request, options, http::status::not_found, "no such asset"));
                return;
            }
            auto response = make_response(request, options, http::status::ok, asset->content_type,
                                          std::string(asset->body));
            response.set(http::field::cache_control, "no-cache");
            send(std::move(response));
            return;
        }
        case Resource::Page:
            serve_page(request, "index.html");
            return;
        case Resource::State:
            serve_state(request, route.project);
            return;
        case Resource::BuildsPage:
            serve_page(request, "builds.html");
            return;
        case Resource::BuildsList:
            serve_builds(request);
            return;
    }
}

void HttpSession::serve_page(const HttpRequest& request, std::string_view name) {
    const WebAsset* page = find_web_asset(name);
    auto response = make_response(request, gateway_.options(), http::status::ok, page->content_type,
                                  std::string(page->body));
    response.set("Content-Security-Policy", page_policy);
    response.set("Referrer-Policy", "no-referrer");  // the URL may hold a token
    send(std::move(response));
}

void HttpSession::serve_builds(const HttpRequest& request) {
    gateway_.list_builds(stream_.get_executor(), [self = shared_from_this(),
                                                  request](std::optional<std::string> json) {
        const auto& options = self->gateway_.options();
        if (json) {
            auto response =
                make_response(request, options, http::status::ok, "application/json", *json + "\n");
            response.set(http::field::cache_control, "no-store");
            self->send(std::move(response));
        } else {
            self->send(error_response(request, options, http::status::service_unavailable,
                                      "the list of builds cannot be read now (the gateway's "
                                      "log says why)"));
        }
    });
}

void HttpSession::carry_out(const HttpRequest& request, const Route& route,
                            const OpenEvents& events) {
    if (!seated(request, route)) {
        return;
    }
    stream_.expires_never();  // the stream is the viewer's now, without Beast's timer
    std::make_shared<SseSession>(stream_.release_socket(), loop_, std::move(slot_),
                                 loop_.follow(route.project), events.after, request, peer_)
        ->start();
}

void HttpSession::carry_out(const HttpRequest& request, const Route& route,
                            const OpenWebSocket& socket) {
    if (!seated(request, route)) {
        return;
    }
    std::make_shared<WebSocketSession>(std::move(stream_), loop_, std::move(slot_),
                                       loop_.follow(route.project), socket.after, peer_)
        ->start(request);
}

void HttpSession::serve_state(const HttpRequest& request, const std::string& project) {
    gateway_.read_state(
        project, stream_.get_executor(),
        [self = shared_from_this(), request, project](const Gateway::State& state) {
            const auto& options = self->gateway_.options();
            if (state.json) {
                self->send(make_response(request, options, http::status::ok, "application/json",
                                         *state.json + "\n"));
            } else if (state.redis_failed) {
                self->send(error_response(request, options, http::status::service_unavailable,
                                          "the project's history cannot be read now (the "
                                          "gateway's log says why)"));
            } else {
                self->send(error_response(request, options, http::status::not_found,
                                          "project " + project + " has no history"));
            }
        });
}

void HttpSession::send(HttpResponse response) {
    auto shared = std::make_shared<HttpResponse>(std::move(response));
    const bool keep_alive = shared->keep_alive();
    stream_.expires_after(gateway_.options().idle_timeout);
    http::async_write(
        stream_, *shared,
        [self = shared_from_this(), shared, keep_alive](
            beast::error_code ec, std::size_t /*bytes*/) { self->on_write(keep_alive, ec); });
}

void HttpSession::on_write(bool keep_alive, beast::error_code ec) {
    if (ec) {
        return;
    }
    if (!keep_alive) {
        lingering_close(std::move(stream_));
        return;
    }
    read_request();
}

}  // namespace bscd
