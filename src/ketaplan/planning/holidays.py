"""Public holidays from the holidays package, loaded only when a clinic names a country."""

from __future__ import annotations

from datetime import date
from typing import Any

from ketaplan.errors import UsageError


class CountryHolidays:
    """Public holidays of a country (and subdivision), years loaded as they are asked for."""

    def __init__(self, country: str, subdiv: str | None = None) -> None:
        import holidays  # heavy: only for clinics that name a country

        try:
            self._days: Any = holidays.country_holidays(country, subdiv=subdiv)
        except NotImplementedError:
            place = f"{country}-{subdiv}" if subdiv else country
            raise UsageError(
                f"holidays {place!r}: unknown country or subdivision "
                "(ISO 3166 codes, e.g. DE, DE-BY, US-CA)"
            ) from None
        self.code = f"{country}-{subdiv}" if subdiv else country

    def __call__(self, day: date) -> str | None:
        """The holiday's name on `day`, or None (a `HolidayLookup`)."""
        name = self._days.get(day)
        return str(name) if name is not None else None
