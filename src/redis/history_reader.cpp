#include "redis/history_reader.hpp"

#include <algorithm>

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "core/cluster_slot.hpp"
#include "core/redis_redirect.hpp"

namespace bscd {

namespace {
constexpr auto ping_interval = std::chrono::seconds(1);
// MOVED then ASK is the longest honest path (a stale map during a
// migration); more means nodes pointing at each other: try again later.
constexpr int max_redirects = 3;
}  // namespace

HistoryReader::HistoryReader(boost::asio::io_context& io, RedisOptions options,
                             std::function<void()> on_ready)
    : io_(io),
      options_(std::move(options)),
      on_ready_(std::move(on_ready)),
      slots_(io, options_),
      ping_timer_(io) {}

void HistoryReader::start() {
    running_ = true;
    if (clustered()) {
        reload_slots();  // the links follow the map
    } else {
        add_link({}, options_);
    }
    schedule_ping();
}

void HistoryReader::stop() {
    running_ = false;
    ping_timer_.cancel();
    for (auto& [name, node] : links_) {
        node->link.stop();
    }
}

HistoryReader::NodeLink& HistoryReader::add_link(const std::string& name, RedisOptions options) {
    auto& node = links_[name];
    node = std::make_unique<NodeLink>(io_, std::move(options));
    NodeLink* self = node.get();
    self->link.start(
        [this, self] {
            self->ping_overdue = false;
            self->pings_answered = self->pings_sent;
            if (std::exchange(self->replaces_lost, false)) {
                ++counted_.reconnects;
            }
            if (on_ready_) {
                on_ready_();
            }
        },
        [this](const std::string& /*reason*/) {
            if (clustered()) {
                reload_slots();  // a failover, perhaps: who serves its slots now?
            }
        });
    return *self;
}

HistoryReader::NodeLink& HistoryReader::link_to(const HostPort& node) {
    const std::string name = node.str();
    if (const auto it = links_.find(name); it != links_.end()) {
        return *it->second;
    }
    return add_link(name, options_.at(node));
}

HistoryReader::NodeLink* HistoryReader::route(const std::string& key) {
    if (!clustered()) {
        return links_.empty() ? nullptr : links_.begin()->second.get();
    }
    if (const auto master = slots_.master_of(key_hash_slot(key))) {
        return &link_to(*master);
    }
    reload_slots();  // a slot without a master: on_slots() calls on_ready
    return nullptr;
}

bool HistoryReader::read_page(const std::string& key, const std::optional<EntryId>& cursor,
                              std::size_t count, PageHandler done) {
    // Inclusive of the cursor: its entry, if still there, comes first.
    const std::size_t asked = cursor ? count + 1 : count;
    return read(
        key, {"XRANGE", key, cursor ? cursor->str() : "-", "+", "COUNT", std::to_string(asked)},
        [this, key, cursor, asked, done = std::move(done)](const redisReply* reply) {
            if (reply == nullptr) {
                done(std::nullopt);
                return;
            }
            auto entries = parse_stream_entries(*reply);
            if (!entries) {
                spdlog::error("Redis sent a malformed stream entry in {}", key);
                done(std::nullopt);
                return;
            }
            StreamPage page;
            page.more = entries->size() == asked;
            const bool cursor_gone = cursor && !entries->empty() && entries->front().id != *cursor;
            if (cursor && !cursor_gone && !entries->empty()) {
                entries->erase(entries->begin());
            }
            page.entries = std::move(*entries);
            if (!cursor_gone) {
                done(std::move(page));
                return;
            }
            ask_what_was_deleted(key, *cursor, std::move(page), done);
        });
}

void HistoryReader::ask_what_was_deleted(const std::string& key, const EntryId& cursor,
                                         StreamPage page, const PageHandler& done) {
    auto shared = std::make_shared<StreamPage>(std::move(page));
    const bool sent =
        read(key, {"XINFO", "STREAM", key}, [cursor, shared, done](const redisReply* reply) {
            // No answer (an ACL without XINFO, or the link lost): they may be.
            shared->entries_lost = reply == nullptr || entries_removed_after(*reply, cursor);
            done(std::move(*shared));
        });
    if (!sent) {
        shared->entries_lost = true;
        done(std::move(*shared));
    }
}

bool HistoryReader::read(const std::string& key, std::vector<std::string> command,
                         ReplyHandler done) {
    return send(std::make_shared<Read>(Read{key, std::move(command), std::move(done)}), route(key),
                false);
}

bool HistoryReader::send(const std::shared_ptr<Read>& read, NodeLink* node, bool asking) {
    if (node == nullptr || !node->link.ready()) {
        return false;
    }
    AsyncConnection& connection = node->link.connection();
    // Pipelined on one link: ASKING applies to the XRANGE right after it.
    if (asking && !connection.command({"ASKING"}, [](const redisReply* /*ok*/) {})) {
        return false;
    }
    return connection.command(read->command, [this, read, node](const redisReply* reply) {
        if (reply == nullptr) {
            read->done(nullptr);  // the link went, `node` perhaps with it
            return;
        }
        on_reply(read, *node, *reply);
    });
}

void HistoryReader::on_reply(const std::shared_ptr<Read>& read, NodeLink& node,
                             const redisReply& reply) {
    if (reply.type == REDIS_REPLY_ERROR) {
        const std::string_view error = reply_text(reply);
        if (clustered() && read->redirects < max_redirects) {
            if (const auto redirect =
                    parse_redirect(error, node.link.connection().options().host)) {
                ++read->redirects;
                NodeLink* target = nullptr;
                if (redirect->kind == Redirect::Kind::Moved) {
                    slots_.moved(redirect->slot, redirect->node);
                    reload_slots();  // one slot moved: others may have too
                    target = &link_to(redirect->node);
                } else {
                    target = &link_to(redirect->node);
                }
                // A read is idempotent: read again where Redis points. A
                // link still on its way calls on_ready, which reads again.
                if (!send(read, target, redirect->kind == Redirect::Kind::Ask)) {
                    read->done(nullptr);
                }
                return;
            }
            if (is_retry_elsewhere_error(error)) {
                reload_slots();
            }
        }
        const std::string& name = read->command.front();
        if (clustered() && is_try_later_error(error)) {  // CLUSTERDOWN during a failover
            spdlog::warn("Redis answered {} {} with {}; reading again later", name, read->key,
                         error);
        } else {
            spdlog::error("Redis answered {} {} with an error: {}", name, read->key, error);
        }
        read->done(nullptr);
        return;
    }
    read->done(&reply);
}

void HistoryReader::reload_slots() {
    if (reloading_ || !running_) {
        return;
    }
    reloading_ = true;
    slots_.reload([this](const std::optional<RedisOptions>& /*node*/, const std::string& error) {
        reloading_ = false;
        if (running_) {
            on_slots(error);
        }
    });
}

void HistoryReader::on_slots(const std::string& error) {
    if (!error.empty()) {
        // The links' own retries and the PING timer ask again.
        spdlog::debug("History reader: no slot map: {}", error);
        return;
    }
    bool changed = !std::exchange(have_slots_, true);
    const std::vector<HostPort> masters = slots_.masters();
    // A node that serves no slot any more (a dead master its replica
    // replaced, a master demoted) is left: it would keep the reader down.
    bool dropped = false;
    for (auto it = links_.begin(); it != links_.end();) {
        const bool serves = std::any_of(masters.begin(), masters.end(),
                                        [&](const HostPort& m) { return m.str() == it->first; });
        if (serves) {
            ++it;
            continue;
        }
        spdlog::info("Redis history reader: {} serves no slot now; dropping its link", it->first);
        counted_ += it->second->link.counts();
        it->second->link.stop();  // its reads in flight are answered nullopt
        it = links_.erase(it);
        dropped = true;
    }
    // A link to every master, so that a read finds its link up.
    for (const HostPort& master : masters) {
        if (!links_.contains(master.str())) {
            link_to(master).replaces_lost = dropped;
            changed = true;
        }
    }
    // Reads that found no route go now; a new link says so itself once up.
    if ((changed || dropped) && on_ready_) {
        on_ready_();
    }
}

bool HistoryReader::redis_up() const {
    if (links_.empty() || (clustered() && !have_slots_)) {
        return false;
    }
    return std::all_of(links_.begin(), links_.end(), [](const auto& named) {
        return named.second->link.ready() && !named.second->ping_overdue;
    });
}

RedisLinkCounts HistoryReader::link_counts() const {
    RedisLinkCounts total = counted_;
    for (const auto& [name, node] : links_) {
        total += node->link.counts();
    }
    return total;
}

void HistoryReader::schedule_ping() {
    ping_timer_.expires_after(ping_interval);
    ping_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        bool all_up = true;
        for (auto& [name, node] : links_) {
            ping(*node);
            all_up = all_up && node->link.ready();
        }
        if (clustered() && (!have_slots_ || !all_up)) {
            reload_slots();  // a failover is noticed within a second of its end
        }
        schedule_ping();
    });
}

void HistoryReader::ping(NodeLink& node) {
    if (!node.link.ready()) {
        return;
    }
    // Two intervals without an answer: the previous PING is still waiting.
    if (node.pings_sent > node.pings_answered + 1) {
        node.ping_overdue = true;
        node.link.fail("Redis did not answer PING within 2 s");
        if (on_unresponsive_) {
            on_unresponsive_();
        }
        return;
    }
    ++node.pings_sent;
    node.link.connection().command({"PING"}, [&node](const redisReply* reply) {
        if (reply != nullptr && reply->type != REDIS_REPLY_ERROR) {
            ++node.pings_answered;
            node.ping_overdue = node.pings_sent > node.pings_answered + 1;
        }
    });
}

}  // namespace bscd
