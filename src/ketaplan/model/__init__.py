"""The shared vocabulary: courses, sessions, protocols, the clinic's calendar and
settings, and the records the book keeps. Imports nothing of ketaplan but `errors`."""
