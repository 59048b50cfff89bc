"""Booking: the capacity engine (pure) and the use cases, each one transaction through
the store returning a frozen result."""
