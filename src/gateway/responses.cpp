#include "gateway/responses.hpp"

#include <nlohmann/json.hpp>

namespace bscd {
namespace {

constexpr std::string_view server_name = "bscd-gateway";

std::string error_json(std::string_view message) {
    // dump() escapes whatever the message quotes from the request.
    return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace) +
           "\n";
}

}  // namespace

void set_common_headers(http::fields& fields, const HttpRequest& request,
                        const GatewayOptions& options) {
    fields.set(http::field::server, server_name);
    fields.set("X-Content-Type-Options", "nosniff");
    fields.set(http::field::cache_control, "no-store");
    if (!options.allow_origins.empty()) {
        const auto origin = request[http::field::origin];
        if (const auto allowed = options.allowed_origin(origin)) {
            fields.set(http::field::access_control_allow_origin, *allowed);
            fields.set(http::field::vary, "Origin");
        }
    }
}

HttpResponse make_response(const HttpRequest& request, const GatewayOptions& options,
                           http::status status, std::string_view content_type, std::string body) {
    HttpResponse response{status, request.version()};
    set_common_headers(response.base(), request, options);
    response.set(http::field::content_type, content_type);
    response.keep_alive(request.keep_alive());
    response.body() = std::move(body);
    response.prepare_payload();
    if (request.method() == http::verb::head) {
        response.body().clear();  // Content-Length still says what GET would send
    }
    return response;
}

HttpResponse error_response(const HttpRequest& request, const GatewayOptions& options,
                            http::status status, std::string_view message) {
    return make_response(request, options, status, "application/json", error_json(message));
}

HttpResponse error_response(http::status status, std::string_view message) {
    HttpResponse response{status, 11};
    response.set(http::field::server, server_name);
    response.set(http::field::content_type, "application/json");
    response.keep_alive(false);
    response.body() = error_json(message);
    response.prepare_payload();
    return response;
}

HttpResponse preflight_response(const HttpRequest& request, const GatewayOptions& options) {
    HttpResponse response{http::status::no_content, request.version()};
    set_common_headers(response.base(), request, options);
    response.set(http::field::access_control_allow_methods, "GET, HEAD");
    response.set(http::field::access_control_allow_headers, "Authorization, Last-Event-ID");
    response.set(http::field::access_control_max_age, "600");
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    return response;
}

}  // namespace bscd
