#pragma once
// Per-project viewer tokens (docs/gateway.md, "Access"): the service that
// knows the secret hands each user a link carrying their project's token, and
// the gateway checks it without keeping any list of users.

#include <string>
#include <string_view>

namespace bscd {

// Lowercase hex (64 characters) of HMAC-SHA256(secret, project).
std::string access_token(std::string_view secret, std::string_view project);

// Whether `presented` is access_token(secret, project), compared in constant
// time (CRYPTO_memcmp). Exactly the lowercase hex form: false for uppercase
// hex or a wrong length.
bool token_grants(std::string_view secret, std::string_view project, std::string_view presented);

}  // namespace bscd
