"""Planning a course by its protocol's rules: the built-in protocols, the planner and
the independent rules checker. Pure: no store, no clock, no terminal."""
