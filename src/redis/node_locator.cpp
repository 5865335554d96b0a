#include "redis/node_locator.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>
#include <hiredis/hiredis.h>

#include "redis/stream_reply.hpp"

namespace bscd {

NodeLocator::NodeLocator(boost::asio::io_context& io, RedisOptions options)
    : io_(io), options_(std::move(options)), query_(io, RedisOptions{}) {
    slot_owner_.fill(-1);
}

void NodeLocator::locate(const std::string& key, Found done) {
    if (auto node = node_for(key)) {
        boost::asio::post(io_, [weak = std::weak_ptr(self_), done = std::move(done),
                                node = std::move(*node)]() mutable {
            if (weak.lock()) {
                done(std::move(node), {});
            }
        });
        return;
    }
    waiters_.push_back({key, std::move(done)});
    resolve();
}

std::optional<RedisOptions> NodeLocator::node_for(const std::string& key) const {
    switch (options_.mode()) {
        case RedisMode::Standalone:
            return options_;
        case RedisMode::Sentinel:
            return master_;
        case RedisMode::Cluster:
            if (!have_slots_) {
                return std::nullopt;
            }
            const std::int16_t owner =
                slot_owner_[key.empty() ? slot_owner_.size() / 2 : key_hash_slot(key)];
            if (owner < 0) {
                return std::nullopt;  // a slot no master serves: ask again
            }
            return options_.at(nodes_[static_cast<std::size_t>(owner)]);
    }
    return std::nullopt;
}

void NodeLocator::moved(std::uint16_t slot, const HostPort& node) {
    auto it = std::find(nodes_.begin(), nodes_.end(), node);
    if (it == nodes_.end()) {
        it = nodes_.insert(nodes_.end(), node);
    }
    slot_owner_[slot] = static_cast<std::int16_t>(it - nodes_.begin());
}

void NodeLocator::forget() {
    master_.reset();
    have_slots_ = false;
}

std::optional<HostPort> NodeLocator::master_of(std::uint16_t slot) const {
    if (!have_slots_ || slot_owner_[slot] < 0) {
        return std::nullopt;
    }
    return nodes_[static_cast<std::size_t>(slot_owner_[slot])];
}

std::vector<HostPort> NodeLocator::masters() const {
    std::vector<bool> serves(nodes_.size(), false);
    if (have_slots_) {
        for (const std::int16_t owner : slot_owner_) {
            if (owner >= 0) {
                serves[static_cast<std::size_t>(owner)] = true;
            }
        }
    }
    std::vector<HostPort> found;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (serves[i]) {
            found.push_back(nodes_[i]);
        }
    }
    return found;
}

void NodeLocator::reload(Found done) {
    waiters_.push_back({{}, std::move(done)});
    resolve();
}

void NodeLocator::resolve() {
    if (resolving_) {
        return;  // the answer on its way serves every waiter
    }
    resolving_ = true;
    if (options_.mode() == RedisMode::Sentinel) {
        ask_sentinel(0, {});
    } else {
        ask_cluster(0, {});
    }
}

void NodeLocator::ask_sentinel(std::size_t index, const std::string& failures) {
    if (index == options_.sentinels.size()) {
        finish("no sentinel named the master " + options_.master_name + ": " + failures);
        return;
    }
    const HostPort sentinel = options_.sentinels[index];
    auto next = [this, index, failures, sentinel](const std::string& why) {
        ask_sentinel(index + 1,
                     failures + (failures.empty() ? "" : "; ") + sentinel.str() + " " + why);
    };
    query_.connect(
        options_.sentinel_at(sentinel), query_timeout_,
        [this, sentinel, next, index] {
            query_.command(
                {"SENTINEL", "get-master-addr-by-name", options_.master_name},
                [this, sentinel, next, index](const redisReply* reply) {
                    if (reply == nullptr) {
                        return;  // the lost handler goes on with the next sentinel
                    }
                    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
                        const std::string text(reply_text(*reply));
                        query_.close();
                        next(text.empty() ? "does not know it" : "answered " + text);
                        return;
                    }
                    // Brackets, so that an IPv6 host parses as one too.
                    auto named =
                        HostPort::parse("[" + std::string(reply_text(*reply->element[0])) +
                                        "]:" + std::string(reply_text(*reply->element[1])));
                    query_.close();
                    if (!named) {
                        next("answered a malformed address");
                        return;
                    }
                    // The sentinel that answered is asked first next time
                    // (the Sentinel client rules).
                    std::rotate(
                        options_.sentinels.begin(),
                        options_.sentinels.begin() + static_cast<std::ptrdiff_t>(index),
                        options_.sentinels.begin() + static_cast<std::ptrdiff_t>(index) + 1);
                    RedisOptions master = options_.at(*named);
                    master.must_be_master = true;
                    master_ = std::move(master);
                    finish({});
                });
        },
        [next](const std::string& reason) { next(reason); });
}

void NodeLocator::ask_cluster(std::size_t index, const std::string& failures) {
    // Known nodes first (they include every master seen), then the seeds.
    std::vector<HostPort> candidates = nodes_;
    for (const auto& seed : options_.cluster_nodes) {
        if (std::find(candidates.begin(), candidates.end(), seed) == candidates.end()) {
            candidates.push_back(seed);
        }
    }
    if (index >= candidates.size()) {
        finish("no cluster node answered CLUSTER SLOTS: " + failures);
        return;
    }
    const HostPort node = candidates[index];
    auto next = [this, index, failures, node](const std::string& why) {
        ask_cluster(index + 1, failures + (failures.empty() ? "" : "; ") + node.str() + " " + why);
    };
    query_.connect(
        options_.at(node), query_timeout_,
        [this, node, next] {
            query_.command({"CLUSTER", "SLOTS"}, [this, node, next](const redisReply* reply) {
                if (reply == nullptr) {
                    return;
                }
                const bool loaded = load_slots(*reply, node);
                query_.close();
                if (!loaded) {
                    next("answered CLUSTER SLOTS without a full slot map");
                    return;
                }
                finish({});
            });
        },
        [next](const std::string& reason) { next(reason); });
}

bool NodeLocator::load_slots(const redisReply& reply, const HostPort& asked) {
    // [[start, end, [host, port, id...], replicas...], ...]; an empty host
    // means the node that answered.
    if (reply.type != REDIS_REPLY_ARRAY) {
        return false;
    }
    std::vector<HostPort> nodes;
    std::array<std::int16_t, cluster_slots> owners{};
    owners.fill(-1);
    std::size_t covered = 0;
    for (std::size_t i = 0; i < reply.elements; ++i) {
        const redisReply& range = *reply.element[i];
        if (range.type != REDIS_REPLY_ARRAY || range.elements < 3 ||
            range.element[0]->type != REDIS_REPLY_INTEGER ||
            range.element[1]->type != REDIS_REPLY_INTEGER ||
            range.element[2]->type != REDIS_REPLY_ARRAY || range.element[2]->elements < 2) {
            return false;
        }
        const auto first = range.element[0]->integer;
        const auto last = range.element[1]->integer;
        const redisReply& master = *range.element[2];
        if (first < 0 || last < first || last >= static_cast<long long>(cluster_slots) ||
            master.element[1]->type != REDIS_REPLY_INTEGER) {
            return false;
        }
        std::string host(reply_text(*master.element[0]));
        if (host.empty() || host == "?") {
            host = asked.host;
        }
        const HostPort node{host, static_cast<int>(master.element[1]->integer)};
        auto it = std::find(nodes.begin(), nodes.end(), node);
        if (it == nodes.end()) {
            it = nodes.insert(nodes.end(), node);
        }
        for (auto slot = first; slot <= last; ++slot) {
            owners[static_cast<std::size_t>(slot)] = static_cast<std::int16_t>(it - nodes.begin());
            ++covered;
        }
    }
    if (covered == 0) {
        return false;
    }
    nodes_ = std::move(nodes);
    slot_owner_ = owners;
    have_slots_ = true;
    return true;
}

void NodeLocator::finish(const std::string& error) {
    resolving_ = false;
    auto waiters = std::exchange(waiters_, {});
    for (auto& waiter : waiters) {
        auto node = node_for(waiter.key);
        boost::asio::post(io_, [weak = std::weak_ptr(self_), done = std::move(waiter.done),
                                node = std::move(node), error]() mutable {
            if (!weak.lock()) {
                return;
            }
            std::string why;
            if (!node) {
                why = error.empty() ? "no node serves that key" : error;
            }
            done(std::move(node), why);
        });
    }
}

}  // namespace bscd
