"""Where ketaplan's clinical defaults come from: the citations that planning, safety and
their outputs print."""

from __future__ import annotations

SOURCE_DOC = "shared/PROTOCOLS.md"
