#include "support/process_sockets.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace bscd::test {
namespace {

namespace fs = std::filesystem;

// The socket inodes among `pid`'s descriptors ("socket:[12345]").
std::set<unsigned long> socket_inodes(pid_t pid) {
    std::set<unsigned long> inodes;
    std::error_code ec;
    const fs::path fds = "/proc/" + std::to_string(pid) + "/fd";
    for (fs::directory_iterator it(fds, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code link_ec;
        const std::string target = fs::read_symlink(it->path(), link_ec).string();
        if (!link_ec && target.starts_with("socket:[")) {
            inodes.insert(std::stoul(target.substr(8)));
        }
    }
    return inodes;
}

// Adds the inodes of the table's sockets whose remote port is `port`: lines
// "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode".
void add_peers_on(const std::string& table, int port, std::set<unsigned long>& inodes) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot;
        std::string local;
        std::string remote;
        std::string skip;
        unsigned long inode = 0;
        fields >> slot >> local >> remote;
        for (int i = 0; i < 6; ++i) {
            fields >> skip;
        }
        fields >> inode;
        const auto colon = remote.rfind(':');
        if (fields && colon != std::string::npos &&
            std::stoi(remote.substr(colon + 1), nullptr, 16) == port) {
            inodes.insert(inode);
        }
    }
}

}  // namespace

std::set<unsigned long> tcp_sockets_to(pid_t pid, int port) {
    std::set<unsigned long> to_port;
    const std::string net = "/proc/" + std::to_string(pid) + "/net/";
    add_peers_on(net + "tcp", port, to_port);
    add_peers_on(net + "tcp6", port, to_port);
    const std::set<unsigned long> held = socket_inodes(pid);
    std::set<unsigned long> result;
    for (const unsigned long inode : to_port) {
        if (held.contains(inode)) {
            result.insert(inode);
        }
    }
    return result;
}

}  // namespace bscd::test
