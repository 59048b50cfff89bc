"""What ketaplan reads and writes: calendar files, rosters, protocol and config files,
the documented JSON and CSV shapes, and atomic file writes."""
