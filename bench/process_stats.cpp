#include "process_stats.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "options.hpp"
#include "stats.hpp"

namespace bench {

double cpu_seconds(pid_t pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(file, line)) {
        return -1;
    }
    // The command name (field 2) may hold spaces; fields are counted after it.
    const auto close = line.rfind(')');
    if (close == std::string::npos) {
        return -1;
    }
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int index = 3; fields >> field; ++index) {
        if (index == 14) {
            utime = std::stoull(field);
        } else if (index == 15) {
            stime = std::stoull(field);
            break;
        }
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double run_queue_seconds(pid_t pid) {
    std::error_code error;
    const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
    double total = 0;
    bool found = false;
    for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
        std::ifstream file(task.path() / "schedstat");
        unsigned long long on_cpu_ns = 0;
        unsigned long long waiting_ns = 0;
        if (file >> on_cpu_ns >> waiting_ns) {
            total += static_cast<double>(waiting_ns) / 1e9;
            found = true;
        }
    }
    return found ? total : -1;
}

std::vector<Watched> parse_watched(const std::vector<std::string>& specs) {
    std::vector<Watched> watched;
    for (const std::string& spec : specs) {
        const auto equals = spec.find('=');
        if (equals == std::string::npos || equals == 0) {
            throw UsageError("--watch expects NAME=PID, got '" + spec + "'");
        }
        Watched w;
        w.name = spec.substr(0, equals);
        try {
            w.pid = static_cast<pid_t>(std::stol(spec.substr(equals + 1)));
        } catch (const std::exception&) {
            throw UsageError("--watch expects NAME=PID, got '" + spec + "'");
        }
        if (cpu_seconds(w.pid) < 0) {
            throw UsageError("--watch: no process " + spec.substr(equals + 1));
        }
        watched.push_back(w);
    }
    watched.push_back(Watched{"load", getpid(), 0});  // the generator itself (not its children)
    return watched;
}

void mark_cpu(std::vector<Watched>& watched) {
    for (Watched& w : watched) {
        w.cpu_before = cpu_seconds(w.pid);
        w.wait_before = run_queue_seconds(w.pid);
    }
}

std::string cpu_report(const std::vector<Watched>& watched, double codes) {
    std::string out;
    for (const Watched& w : watched) {
        const double now = cpu_seconds(w.pid);
        const double used = now < 0 ? 0 : now - w.cpu_before;
        out += " " + w.name + "_cpu_s=" + fixed(used, 2);
        if (codes > 0) {
            out += " " + w.name + "_cpu_us_per_code=" + fixed(used * 1e6 / codes, 2);
        }
        const double waited = run_queue_seconds(w.pid);
        out += " " + w.name + "_runq_s=" + fixed(waited < 0 ? 0 : waited - w.wait_before, 2);
    }
    return out;
}

}  // namespace bench
