#pragma once
// One descriptor held back for the moment a process runs out of them. When
// accept() fails with EMFILE the connection stays in the backlog and its
// client hears nothing until it gives up; with the reserve freed the listener
// can accept it, answer it with a refusal (`ERR ...`, `503`) and close it, and
// then take the reserve again: the classic trick of libev's and nginx's users.

#include <string_view>

namespace bscd {

class DescriptorReserve {
public:
    DescriptorReserve();  // opens /dev/null; held() says whether that worked
    ~DescriptorReserve();
    DescriptorReserve(const DescriptorReserve&) = delete;
    DescriptorReserve& operator=(const DescriptorReserve&) = delete;

    // With the reserve freed: accepts one pending connection on the listening
    // socket `listen_fd`, sends it `reply` (best effort, without blocking),
    // closes it, and takes the reserve back. False when no connection was
    // pending or none could be accepted even so.
    bool refuse_one(int listen_fd, std::string_view reply);

    [[nodiscard]] bool held() const { return fd_ >= 0; }

private:
    void take();

    int fd_ = -1;
};

}  // namespace bscd
