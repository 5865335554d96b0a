#include "gateway/access_token.hpp"

#include <array>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdexcept>

namespace bscd {

std::string access_token(std::string_view secret, std::string_view scope) {
    // OpenSSL wants non-null pointers even for empty input; a default
    // string_view has a null data().
    static constexpr unsigned char empty[1] = {};
    const auto* key =
        secret.empty() ? empty : reinterpret_cast<const unsigned char*>(secret.data());
    const auto* data = scope.empty() ? empty : reinterpret_cast<const unsigned char*>(scope.data());

    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_size = 0;
    if (HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), data, scope.size(), mac.data(),
             &mac_size) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }

    static constexpr char hex[] = "0123456789abcdef";
    std::string token;
    token.reserve(std::size_t{2} * mac_size);
    for (unsigned int i = 0; i < mac_size; ++i) {
        token += hex[mac[i] >> 4];
        token += hex[mac[i] & 0x0f];
    }
    return token;
}

bool token_grants(std::string_view secret, std::string_view scope, std::string_view presented) {
    const std::string expected = access_token(secret, scope);
    // The length is public (always 64), so leaving early on it reveals nothing.
    if (presented.size() != expected.size()) {
        return false;
    }
    return CRYPTO_memcmp(expected.data(), presented.data(), expected.size()) == 0;
}

}  // namespace bscd
