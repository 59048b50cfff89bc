"""What ketaplan reads and writes: calendar files, rosters, protocol and config files,
the documented JSON and CSV shapes, the patient's printed handout, and atomic file
writes."""
