#include "gateway/admission.hpp"

namespace bscd {

Admission::Admission(const GatewayOptions& options)
    : trusted_proxies_(options.trusted_proxies),
      rate_limited_(options.client_rate > 0),
      max_project_viewers_(options.max_project_viewers),
      // With no limit the table is never asked: any positive rate will do.
      rates_(options.client_rate > 0 ? options.client_rate : 1.0,
             static_cast<double>(options.client_burst), max_rate_clients) {}

IpAddress Admission::client_of(const IpAddress& peer, std::string_view forwarded_for) const {
    return forwarded_client(peer, forwarded_for, trusted_proxies_);
}

std::optional<std::chrono::seconds> Admission::over_rate(const IpAddress& client,
                                                         const Route& route,
                                                         Clock::time_point now) {
    if (!rate_limited_ || route.kind == RouteKind::Health || route.kind == RouteKind::Metrics) {
        return std::nullopt;
    }
    const std::string key = rate_key(client);
    std::optional<std::chrono::seconds> wait;
    {
        const std::lock_guard lock(rate_mutex_);
        wait = rates_.refuse(key, now);
    }
    if (wait) {
        ++refused_for_rate_;
    }
    return wait;
}

std::size_t Admission::rate_clients() const {
    const std::lock_guard lock(rate_mutex_);
    return rates_.clients();
}

std::optional<Admission::Seat> Admission::seat(const std::string& project) {
    {
        const std::lock_guard lock(seats_mutex_);
        std::size_t& taken = seats_[project];
        if (max_project_viewers_ > 0 && taken >= max_project_viewers_) {
            // Never zero here (max > 0): the map keeps no zeros.
            ++refused_project_full_;
            return std::nullopt;
        }
        ++taken;
    }
    return Seat(*this, project);
}

std::size_t Admission::seated(const std::string& project) const {
    const std::lock_guard lock(seats_mutex_);
    const auto it = seats_.find(project);
    return it == seats_.end() ? 0 : it->second;
}

void Admission::release(const std::string& project) {
    const std::lock_guard lock(seats_mutex_);
    const auto it = seats_.find(project);
    if (it != seats_.end() && --it->second == 0) {
        seats_.erase(it);
    }
}

Admission::Seat::Seat(Admission& admission, std::string project)
    : admission_(&admission), project_(std::move(project)) {}

Admission::Seat::Seat(Seat&& other) noexcept
    : admission_(other.admission_), project_(std::move(other.project_)) {
    other.admission_ = nullptr;
}

Admission::Seat::~Seat() {
    if (admission_ != nullptr) {
        admission_->release(project_);
    }
}

}  // namespace bscd
