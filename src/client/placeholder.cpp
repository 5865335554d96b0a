// Replaced by the bsc work.
