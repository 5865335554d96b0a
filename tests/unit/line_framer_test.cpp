#include "core/line_framer.hpp"

#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/request.hpp"

namespace bscd {
namespace {

// A frame copied out of the callback (Frame::text dies with the call).
struct Got {
    std::string text;
    bool terminated;
    bool too_long;
    bool operator==(const Got&) const = default;
    friend std::ostream& operator<<(std::ostream& os, const Got& g) {
        return os << "{\"" << printable(g.text, 80) << "\", terminated=" << g.terminated
                  << ", too_long=" << g.too_long << "}";
    }
};

Got line(std::string text) {
    return Got{std::move(text), true, false};
}
Got last(std::string text) {
    return Got{std::move(text), false, false};
}
const Got too_long_line{"", true, true};
const Got too_long_last{"", false, true};

// Feeds `chunks` in turn, then finishes; everything emitted, in order.
std::vector<Got> frames_of(LineFramer& framer, const std::vector<std::string>& chunks) {
    std::vector<Got> got;
    for (const std::string& chunk : chunks) {
        framer.feed(chunk, [&](const Frame& f) {
            got.push_back(Got{std::string(f.text), f.terminated, f.too_long});
        });
    }
    if (auto f = framer.finish()) {
        got.push_back(Got{std::string(f->text), f->terminated, f->too_long});
    }
    return got;
}

std::vector<Got> frames_of(std::size_t max, const std::vector<std::string>& chunks) {
    LineFramer framer(max);
    return frames_of(framer, chunks);
}

std::vector<std::string> bytes_of(const std::string& text) {
    std::vector<std::string> chunks;
    for (char c : text) {
        chunks.emplace_back(1, c);
    }
    return chunks;
}

TEST(LineFramer, OneTerminatedRequest) {
    EXPECT_EQ(frames_of(256, {"10\n"}), std::vector<Got>{line("10")});
}

TEST(LineFramer, PiemanClientWritesWithoutNewlineAndCloses) {
    LineFramer framer(256);
    int calls = 0;
    framer.feed("10", [&](const Frame&) { ++calls; });
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(framer.buffered(), 2u);
    const auto f = framer.finish();
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->text, "10");
    EXPECT_FALSE(f->terminated);
    EXPECT_FALSE(f->too_long);
    EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramer, SeveralRequestsInOneChunkInOrder) {
    EXPECT_EQ(frames_of(256, {"10\n20\nSYNCED_CODE\nEXIT\n"}),
              (std::vector<Got>{line("10"), line("20"), line("SYNCED_CODE"), line("EXIT")}));
}

TEST(LineFramer, SeveralRequestsThenAnUnterminatedOne) {
    EXPECT_EQ(frames_of(256, {"10\n20\n1000"}),
              (std::vector<Got>{line("10"), line("20"), last("1000")}));
}

TEST(LineFramer, EmptyLinesAreEmptyRequests) {
    EXPECT_EQ(frames_of(256, {"\n\n10\n\n"}),
              (std::vector<Got>{line(""), line(""), line("10"), line("")}));
}

TEST(LineFramer, CrlfIsLeftForTheParser) {
    EXPECT_EQ(frames_of(256, {"10\r\n20\r\n"}), (std::vector<Got>{line("10\r"), line("20\r")}));
}

TEST(LineFramer, RequestSplitAcrossChunks) {
    EXPECT_EQ(frames_of(256, {"SYN", "CED_", "CODE\n1", "0\n"}),
              (std::vector<Got>{line("SYNCED_CODE"), line("10")}));
}

TEST(LineFramer, ByteAtATimeGivesTheSameFramesAsOneChunk) {
    const std::string streams[] = {
        "10\n20\nSYNCED_CODE\n",
        "10\n20\n1000",
        "\n\n\n",
        "10\r\n\r\nEXIT\r\n",
        "x\n" + std::string(20, 'y') + "\n" + std::string(30, 'z') + "\n10\n",
        std::string(40, 'a') + "\n5",
        std::string(40, 'a'),
        std::string("bin\0ary\xff\n", 9),
        "",
    };
    for (const std::string& stream : streams) {
        SCOPED_TRACE(printable(stream, 80));
        const auto whole = frames_of(16, {stream});
        EXPECT_EQ(frames_of(16, bytes_of(stream)), whole);
        // Any single split point, too.
        for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
            EXPECT_EQ(frames_of(16, {stream.substr(0, cut), stream.substr(cut)}), whole)
                << "cut at " << cut;
        }
    }
}

TEST(LineFramer, ByteAtATimeFrames) {
    EXPECT_EQ(frames_of(16, bytes_of("10\n20\n1000")),
              (std::vector<Got>{line("10"), line("20"), last("1000")}));
}

TEST(LineFramer, BinaryBytesPassThrough) {
    const std::string request("a\0b\xff\x80", 5);
    EXPECT_EQ(frames_of(256, {request + "\n"}), std::vector<Got>{line(request)});
}

TEST(LineFramer, LineOfExactlyMaxLengthIsKept) {
    const std::string eight(8, '7');
    EXPECT_EQ(frames_of(8, {eight + "\n"}), std::vector<Got>{line(eight)});
    EXPECT_EQ(frames_of(8, bytes_of(eight + "\n")), std::vector<Got>{line(eight)});
    EXPECT_EQ(frames_of(8, {eight}), std::vector<Got>{last(eight)});
}

TEST(LineFramer, LineOfMaxLengthPlusOneIsTooLong) {
    const std::string nine(9, '7');
    EXPECT_EQ(frames_of(8, {nine + "\n"}), std::vector<Got>{too_long_line});
    EXPECT_EQ(frames_of(8, bytes_of(nine + "\n")), std::vector<Got>{too_long_line});
    EXPECT_EQ(frames_of(8, {nine}), std::vector<Got>{too_long_last});
}

TEST(LineFramer, OverflowThenAValidLine) {
    EXPECT_EQ(frames_of(8, {std::string(100, 'x') + "\n10\n"}),
              (std::vector<Got>{too_long_line, line("10")}));
    EXPECT_EQ(frames_of(8, {"10\n" + std::string(100, 'x') + "\n20\n30"}),
              (std::vector<Got>{line("10"), too_long_line, line("20"), last("30")}));
}

TEST(LineFramer, OverflowIsReportedOnceAcrossManyChunks) {
    LineFramer framer(256);
    std::vector<Got> got;
    const auto collect = [&](const Frame& f) {
        got.push_back(Got{std::string(f.text), f.terminated, f.too_long});
    };
    const std::string kilobyte(1024, 'A');
    for (int i = 0; i < 10; ++i) {
        framer.feed(kilobyte, collect);
        EXPECT_LE(framer.buffered(), 256u) << "memory stays bounded";
    }
    EXPECT_TRUE(got.empty()) << "nothing is reported before the line ends";
    framer.feed("AAA\nSYNCED_CODE\n", collect);
    EXPECT_EQ(got, (std::vector<Got>{too_long_line, line("SYNCED_CODE")}));
    EXPECT_EQ(framer.finish(), std::nullopt);
}

TEST(LineFramer, TenKilobyteLineInOneChunkBuffersNothing) {
    LineFramer framer(max_request_length);
    std::vector<Got> got;
    framer.feed(std::string(std::size_t{10} * 1024, '1'), [&](const Frame& f) {
        got.push_back(Got{std::string(f.text), f.terminated, f.too_long});
    });
    EXPECT_EQ(framer.buffered(), 0u);
    EXPECT_TRUE(got.empty());
    EXPECT_EQ(frames_of(framer, {"\n"}), std::vector<Got>{too_long_line});
}

TEST(LineFramer, StreamEndingInsideAnOverflowedLine) {
    LineFramer framer(4);
    EXPECT_EQ(frames_of(framer, {"10\n", "123456"}), (std::vector<Got>{line("10"), too_long_last}));
    EXPECT_EQ(framer.finish(), std::nullopt) << "finish() reset the framer";
}

TEST(LineFramer, FinishWithNothingPending) {
    LineFramer fresh(256);
    EXPECT_EQ(fresh.finish(), std::nullopt);

    LineFramer after_newline(256);
    EXPECT_EQ(frames_of(after_newline, {"10\n"}), std::vector<Got>{line("10")});
    EXPECT_EQ(after_newline.finish(), std::nullopt);
}

TEST(LineFramer, FinishResetsForANewStream) {
    LineFramer framer(256);
    EXPECT_EQ(frames_of(framer, {"1", "0"}), std::vector<Got>{last("10")});
    EXPECT_EQ(framer.buffered(), 0u);
    EXPECT_EQ(framer.finish(), std::nullopt);
    EXPECT_EQ(frames_of(framer, {"20\n3", "0"}), (std::vector<Got>{line("20"), last("30")}));
}

TEST(LineFramer, FinishedTextOutlivesTheCall) {
    LineFramer framer(256);
    framer.feed("SYNCED_CODE", [](const Frame&) {});
    const auto f = framer.finish();
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(framer.buffered(), 0u);
    EXPECT_EQ(f->text, "SYNCED_CODE");
}

TEST(LineFramer, BufferedCountsOnlyThePartialLine) {
    LineFramer framer(256);
    const auto ignore = [](const Frame&) {};
    framer.feed("10\n20\n", ignore);
    EXPECT_EQ(framer.buffered(), 0u);
    framer.feed("SYN", ignore);
    EXPECT_EQ(framer.buffered(), 3u);
    framer.feed("CED", ignore);
    EXPECT_EQ(framer.buffered(), 6u);
    framer.feed("_CODE\n", ignore);
    EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramer, EmptyChunkDoesNothing) {
    LineFramer framer(256);
    int calls = 0;
    framer.feed("", [&](const Frame&) { ++calls; });
    framer.feed("1", [&](const Frame&) { ++calls; });
    framer.feed("", [&](const Frame&) { ++calls; });
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(framer.buffered(), 1u);
}

TEST(LineFramer, ZeroLimitAcceptsOnlyEmptyLines) {
    EXPECT_EQ(frames_of(0, {"\n1\n\n"}), (std::vector<Got>{line(""), too_long_line, line("")}));
}

TEST(LineFramer, ManyRequestsInOneChunk) {
    std::string stream;
    std::vector<Got> expected;
    for (int i = 0; i < 1000; ++i) {
        stream += std::to_string(i) + "\n";
        expected.push_back(line(std::to_string(i)));
    }
    EXPECT_EQ(frames_of(256, {stream}), expected);
}

}  // namespace
}  // namespace bscd
