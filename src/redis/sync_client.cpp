// Implemented in the next commit.
