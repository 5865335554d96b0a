// bsc: the client of bscd (src/client).

#include "client/cli.hpp"

int main(int argc, char** argv) {
    return bscd::client::run_bsc(argc, argv);
}
