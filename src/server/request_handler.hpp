#pragma once
// What each producer request does, the requests of one read together: a
// code is accepted (appended to the spool, if any, then handed to the
// publisher) or refused with ERR; an EXIT is allowed (ProducerAuthority) or
// refused. Refusals are logged within the connection's cap.

#include <optional>
#include <string>
#include <vector>

#include "core/outbox.hpp"
#include "core/request.hpp"
#include "redis/publisher.hpp"
#include "server/peer_credentials.hpp"
#include "server/server_options.hpp"
#include "server/spool.hpp"

namespace bscd {

class ProducerSession;

class RequestHandler {
public:
    // `spool` is null without --spool.
    RequestHandler(const ServerOptions& options, Publisher& publisher, Spool* spool)
        : options_(options), publisher_(publisher), spool_(spool) {}

    // What one read's requests get: their reply lines, in order, and whether
    // one was an accepted EXIT. An EXIT is answered once the shutdown it
    // starts is complete; the requests after it are not handled but still
    // get a reply each (`after_exit`), written after the EXIT's. With a
    // spool, the codes are durable before this returns their OKs.
    struct Answer {
        std::string replies;
        bool exit_requested = false;
        std::string after_exit;
    };
    Answer handle(const std::vector<Request>& requests, ProducerSession& from);

private:
    // The reply to one code; appends it to the spool (if any) or sends it.
    std::string accept(const StatusCode& code, const PeerCredentials& peer);
    // Syncs the spool and sends the codes appended to it; the reason when
    // that failed (and the codes were not accepted after all).
    std::optional<std::string> commit_spooled();

    const ServerOptions& options_;
    Publisher& publisher_;
    Spool* spool_;
    std::vector<Delivery> spooled_;  // appended to the spool, not yet synced and sent
};

}  // namespace bscd
