// Replaced by the server work.
