#pragma once
// Who is let in (docs/gateway.md, "Limits"): each client's request rate
// (--client-rate, --client-burst; the client behind a trusted proxy named
// by X-Forwarded-For, --trust-proxy) and each project's viewers in this
// process (--max-project-viewers). Refusals are counted for /metrics.
//
// Threads: one Admission serves the connections of every event loop. It is
// asked once per request and once per new viewer, never per event, so a
// small mutex each (the rate table, the seats) is enough; the per-event path
// never comes here.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/client_address.hpp"
#include "core/rate_limiter.hpp"
#include "core/web_route.hpp"
#include "gateway/gateway_options.hpp"

namespace bscd {

class Admission {
public:
    using Clock = RateLimiter::Clock;
    // Clients the rate table remembers at most (a few MB): see RateLimiter.
    static constexpr std::size_t max_rate_clients = 50'000;

    explicit Admission(const GatewayOptions& options);
    Admission(const Admission&) = delete;
    Admission& operator=(const Admission&) = delete;

    // The client of a request from `peer` carrying the X-Forwarded-For
    // fields `forwarded_for` (joined with commas): forwarded_client() with
    // --trust-proxy.
    [[nodiscard]] IpAddress client_of(const IpAddress& peer, std::string_view forwarded_for) const;

    // Whether a request for `route` from `client` is refused for the
    // client's rate (counted then); when it is, the Retry-After. /healthz
    // and /metrics are not counted: monitoring must see a gateway through a
    // reconnection storm. Nothing is refused with --client-rate 0.
    [[nodiscard]] std::optional<std::chrono::seconds> over_rate(
        const IpAddress& client, const Route& route, Clock::time_point now = Clock::now());

    // A viewer's place among its project's --max-project-viewers, given
    // back when it is destroyed (whichever way the viewer ended).
    class Seat {
    public:
        Seat(Seat&& other) noexcept;
        Seat(const Seat&) = delete;
        Seat& operator=(const Seat&) = delete;
        Seat& operator=(Seat&&) = delete;
        ~Seat();

    private:
        friend class Admission;
        Seat(Admission& admission, std::string project);
        Admission* admission_;
        std::string project_;
    };
    // A seat for a new viewer of `project`, or nullopt when the project has
    // all its seats taken (counted then). Always a seat with
    // --max-project-viewers 0.
    [[nodiscard]] std::optional<Seat> seat(const std::string& project);
    // The viewers of `project` holding a seat now.
    [[nodiscard]] std::size_t seated(const std::string& project) const;

    // For /metrics (any thread).
    [[nodiscard]] std::uint64_t refused_for_rate() const { return refused_for_rate_; }
    [[nodiscard]] std::uint64_t refused_project_full() const { return refused_project_full_; }
    [[nodiscard]] std::size_t rate_clients() const;

private:
    void release(const std::string& project);

    const std::vector<IpNetwork> trusted_proxies_;
    const bool rate_limited_;
    const std::size_t max_project_viewers_;  // 0: no cap

    mutable std::mutex rate_mutex_;
    RateLimiter rates_;  // under rate_mutex_

    mutable std::mutex seats_mutex_;
    std::unordered_map<std::string, std::size_t> seats_;  // under seats_mutex_; no zeros

    std::atomic<std::uint64_t> refused_for_rate_{0};
    std::atomic<std::uint64_t> refused_project_full_{0};
};

}  // namespace bscd
