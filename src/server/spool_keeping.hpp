#pragma once
// bscd --spool: what the spool and the publisher do together. At start, the
// codes a previous bscd accepted and Redis may lack go out first (the
// history script skips any it has); from then on the spool forgets what
// Redis confirms and records the codes the publisher moves to new ids.

#include <string>

#include "core/catalog.hpp"
#include "redis/publisher.hpp"
#include "server/spool.hpp"

namespace bscd {

// Hands the publisher what `spool` held at start, before anything new, and
// keeps the spool in step with the publisher from now on. Call it before
// the publisher starts.
void keep_spool(Spool& spool, const Catalog& catalog, Publisher& publisher,
                const std::string& channel);

}  // namespace bscd
