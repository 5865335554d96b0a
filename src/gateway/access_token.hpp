#pragma once
// Viewer tokens (docs/gateway.md, "Access"): the service that knows the
// secret hands each user a link carrying their project's token, and the
// gateway checks it without keeping any list of users. A token is for one
// scope: a project, or the operator's list of every build.

#include <string>
#include <string_view>

namespace bscd {

// The scope of the operator's token (GET /builds, /api/v1/builds). No
// project name contains '/', so no project's token is the operator's, nor
// the other way round.
inline constexpr std::string_view operator_scope = "/builds";

// Lowercase hex (64 characters) of HMAC-SHA256(secret, scope).
std::string access_token(std::string_view secret, std::string_view scope);

// Whether `presented` is access_token(secret, scope), compared in constant
// time (CRYPTO_memcmp). Exactly the lowercase hex form: false for uppercase
// hex or a wrong length.
bool token_grants(std::string_view secret, std::string_view scope, std::string_view presented);

}  // namespace bscd
