#include "server/spool_keeping.hpp"

#include <spdlog/spdlog.h>

namespace bscd {
namespace {

void replay(Spool& spool, const Catalog& catalog, Publisher& publisher) {
    const auto held = spool.recovered(catalog);
    if (spool.damaged_lines() > 0) {
        spdlog::error("Spool {}: {} damaged records skipped", spool.path(), spool.damaged_lines());
    }
    for (const auto& delivery : held) {
        if (catalog.find(delivery.code->value) == nullptr) {
            spdlog::warn("Spool {}: code {} ({}) is not in the catalog; sending it as recorded",
                         spool.path(), delivery.code->value, delivery.code->name);
        }
    }
    if (!held.empty()) {
        spdlog::info("Spool {}: sending again {} codes accepted before a restart", spool.path(),
                     held.size());
    }
    publisher.replay(held);
}

}  // namespace

void keep_spool(Spool& spool, const Catalog& catalog, Publisher& publisher,
                const std::string& channel) {
    replay(spool, catalog, publisher);
    publisher.on_confirmed([&spool, &publisher](EntryId newest) {
        spool.confirmed(newest, publisher.outbox().entries());
    });
    // Called between requests: the spool's unconfirmed records are then
    // exactly the codes the outbox holds.
    publisher.on_restamped([&spool, &publisher, channel](const std::vector<Delivery>& moved) {
        try {
            spool.moved(publisher.outbox().entries());
        } catch (const SpoolError& e) {
            // The old records stay: a replay would move them again.
            spdlog::error(
                "Cannot record {} codes of {} under their new ids in the spool: {}; they "
                "are still held and sent",
                moved.size(), channel, e.what());
        }
    });
}

}  // namespace bscd
