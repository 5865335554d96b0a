#pragma once
// bscd on a Redis topology, for the topology tests: starts a real bscd with
// the topology's options, streams distinct codes (CodeStream) into it, and
// reads a data node's history once it is complete.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/code_stream.hpp"
#include "support/process.hpp"
#include "support/producer_client.hpp"
#include "support/redis_server.hpp"
#include "support/sse_stream.hpp"
#include "support/temp_dir.hpp"

namespace bscd::test {

class TopologyBscdTest : public ::testing::Test {
protected:
    static constexpr std::size_t chunk = 10;  // codes per write

    // CodeValues::below_final for tests with gateway viewers.
    explicit TopologyBscdTest(CodeValues values = CodeValues::distinct)
        : stream(dir.path(), 3000, values) {}

    // The options every program takes to reach the topology.
    virtual std::vector<std::string> topology() const = 0;
    // Data node `node` of the topology.
    virtual RedisServer& data_node(int node) = 0;

    // Starts bscd (project demo, -v) and waits until it serves.
    // `stream_codes`: the catalog of CodeStream, else Pieman's.
    std::unique_ptr<Process> start_bscd(const std::vector<std::string>& extra = {},
                                        bool stream_codes = true);
    // Sends chunks until `until` codes were sent; every one must be accepted.
    void send_until(ProducerClient& client, std::size_t until);
    // Sends chunks until `until` codes were accepted, whatever was refused
    // meanwhile (ERR while the outbox is full); false at the deadline.
    bool send_until_accepted(ProducerClient& client, std::size_t until,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // Starts bscd-gateway (the stream's catalog) with the topology's
    // options; returns its port once /healthz answers 200.
    int start_gateway();
    // The codes of the events an SSE viewer received, in order.
    static std::vector<std::string> codes_of(const std::vector<SseEvent>& events);
    std::string socket_path() const { return dir.file("bscd-demo.sock"); }
    // Sends a chunk about every 20 ms, a build's pace, while `fault` runs
    // (on this thread); stops early when the stream's codes run out.
    void send_during(ProducerClient& client, const std::function<void()>& fault);
    std::vector<std::string> first_codes(std::size_t count) const;
    std::vector<std::string> sent_codes() const { return first_codes(stream.sent()); }
    // The history on data node `node` once it holds `length` entries.
    std::vector<std::string> history_when(int node, std::size_t length, const Process& daemon);

    TempDir dir;
    CodeStream stream;
    std::unique_ptr<Process> gateway;
};

}  // namespace bscd::test
