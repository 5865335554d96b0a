#pragma once
// The HTTP answers the gateway gives, with the headers every answer
// carries: who answers, no content sniffing, and CORS when --allow-origin
// lets the request's origin in.

#include <string>
#include <string_view>

#include <boost/beast/http.hpp>

#include "gateway/gateway_options.hpp"

namespace bscd {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// Server, nosniff, CORS (from the request's Origin); no caching unless set later.
void set_common_headers(http::fields& fields, const HttpRequest& request,
                        const GatewayOptions& options);

// A complete answer to `request` (HEAD: headers only, with the length).
HttpResponse make_response(const HttpRequest& request, const GatewayOptions& options,
                           http::status status, std::string_view content_type, std::string body);

// {"error":"<message>"} with `status`.
HttpResponse error_response(const HttpRequest& request, const GatewayOptions& options,
                            http::status status, std::string_view message);

// For requests that could not be read whole (too large, malformed): no
// request to answer to, and the connection closes after it.
HttpResponse error_response(http::status status, std::string_view message);

// The answer to a CORS pre-flight (OPTIONS) request.
HttpResponse preflight_response(const HttpRequest& request, const GatewayOptions& options);

}  // namespace bscd
