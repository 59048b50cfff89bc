"""Where ketaplan's clinical defaults come from: the citations that planning, safety and
their outputs print. A citation starts with a source's key in brackets (`[murrough2013]`);
docs/sources.md gives every source in full. A value that is ketaplan's own choice says
`ketaplan default:` and why instead."""

from __future__ import annotations

from collections.abc import Mapping

# The sources the built-in numbers and screening questions cite, by the key in brackets
# that starts each citation. docs/sources.md gives them in full (DOIs, label sections).
CITATIONS: Mapping[str, str] = {
    "article2022": "Ketamine Therapy: Types, Therapeutic Uses, Benefits, and Side Effects"
    " (source article, 18 November 2022)",
    "murrough2013": "Murrough JW et al., Biol Psychiatry 2013;74(4):250-256",
    "singh2016": "Singh JB et al., Am J Psychiatry 2016;173(8):816-826",
    "lara2013": "Lara DR et al., Int J Neuropsychopharmacol 2013",
    "sanacora2017": "Sanacora G et al., JAMA Psychiatry 2017;74(4):399-405",
    "spravato-label": "SPRAVATO (esketamine) nasal spray, US prescribing information (Janssen)",
    "spravato-rems": "SPRAVATO REMS, REMS@FDA (last update 12/31/2024)",
    "rivaposse2018": "Riva-Posse P et al., J Affect Disord 2018",
}
# What a value that is ketaplan's own choice says instead of a citation.
OWN_CHOICE = "ketaplan default"


def cited_keys(*texts: str) -> list[str]:
    """The `CITATIONS` keys the texts cite, in order of first citation."""
    import re

    found = (key for text in texts for key in re.findall(r"\[([a-z0-9-]+)\]", text))
    return [key for key in dict.fromkeys(found) if key in CITATIONS]
