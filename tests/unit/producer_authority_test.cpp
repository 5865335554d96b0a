// Who may connect and who may send EXIT, decided on given peer credentials:
// runs as any user (the integration tests that act as another user need root).

#include "core/producer_authority.hpp"

#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace bscd {
namespace {

constexpr uid_t owner = 1000;
constexpr uid_t other_user = 2000;
constexpr gid_t builders = 300;

PeerCredentials peer(uid_t uid, gid_t gid = 100) {
    return {.pid = 4242, .uid = uid, .gid = gid};
}

ProducerAuthority authority_of(uid_t daemon_uid, std::vector<uid_t> uids = {},
                               std::vector<gid_t> gids = {}) {
    ProducerAuthority authority;
    authority.owner = daemon_uid;
    authority.allowed_uids = std::move(uids);
    authority.allowed_gids = std::move(gids);
    return authority;
}

TEST(ProducerAuthority, WithoutAllowListsAnyoneWhoReachesTheSocketMayConnect) {
    const ProducerAuthority authority = authority_of(owner);
    EXPECT_TRUE(authority.may_connect(peer(owner)));
    EXPECT_TRUE(authority.may_connect(peer(other_user)));
    EXPECT_TRUE(authority.may_connect(peer(0)));
}

TEST(ProducerAuthority, AllowListsAdmitListedUidsAndGroupsTheOwnerAndRoot) {
    const ProducerAuthority authority = authority_of(owner, {3000}, {builders});
    EXPECT_TRUE(authority.may_connect(peer(3000)));
    EXPECT_TRUE(authority.may_connect(peer(other_user, builders)));
    EXPECT_TRUE(authority.may_connect(peer(owner)));
    EXPECT_TRUE(authority.may_connect(peer(0)));
    EXPECT_FALSE(authority.may_connect(peer(other_user)));
}

TEST(ProducerAuthority, OnlyTheOwnerAndRootMayExit) {
    const ProducerAuthority authority = authority_of(owner);
    EXPECT_TRUE(authority.may_exit(peer(owner)));
    EXPECT_TRUE(authority.may_exit(peer(0)));
    EXPECT_FALSE(authority.may_exit(peer(other_user)));
}

TEST(ProducerAuthority, BeingAllowedToConnectDoesNotAllowExit) {
    const ProducerAuthority authority = authority_of(owner, {other_user}, {builders});
    EXPECT_TRUE(authority.may_connect(peer(other_user)));
    EXPECT_FALSE(authority.may_exit(peer(other_user)));
    EXPECT_FALSE(authority.may_exit(peer(3000, builders)));
}

TEST(ProducerAuthority, RootOwnedDaemonRefusesEveryoneElse) {
    const ProducerAuthority authority = authority_of(0);
    EXPECT_TRUE(authority.may_exit(peer(0)));
    EXPECT_FALSE(authority.may_exit(peer(owner)));
    EXPECT_EQ(authority.exit_refusal(), "ERR EXIT is allowed only to uid 0 and root");
}

TEST(ProducerAuthority, TheRefusalNamesTheOwner) {
    const ProducerAuthority authority = authority_of(owner);
    EXPECT_EQ(authority.exit_refusal(), "ERR EXIT is allowed only to uid 1000 and root");
}

TEST(ProducerAuthority, UnknownCredentialsAreNobodysAndMayDoNothingRestricted) {
    // What peer_credentials() gives when the kernel will not say.
    const PeerCredentials unknown;
    const ProducerAuthority authority = authority_of(owner, {other_user});
    EXPECT_FALSE(authority.may_connect(unknown));
    EXPECT_FALSE(authority.may_exit(unknown));
}

}  // namespace
}  // namespace bscd
