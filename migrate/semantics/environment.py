"""What the inputs may leave open about the Istio that runs them, and what narrowed it.

The engine considers every possibility and reports the worst: every release the repository
can run on, inbound protocol sniffing on and off. A fact read from the repository (an
IstioOperator's `tag`, istiod's image or environment) or given on the command line narrows a
dimension, and the proof says which fact it used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from migrate.findings import Finding, Location, Severity
from migrate.model.inventory import Inventory, IstioFact
from migrate.model.releases import DEFAULT, RELEASES, Release, names, release_of

RELEASES_UNSET = "not set by the inputs: every release a migrated repository can run on"
SNIFFING_UNSET = "not set by the inputs: on and off both considered"


@dataclass(frozen=True, slots=True)
class Environment:
    """The releases considered and the inbound sniffing setting (None: both), each with the
    fact it came from ("" while nothing narrowed it)."""

    releases: tuple[Release, ...] = DEFAULT
    sniffing: bool | None = None
    releases_from: str = ""
    sniffing_from: str = ""

    def lines(self) -> list[str]:
        """The assumptions of a proof, one line each, for reports."""
        sniffing = {True: "on", False: "off", None: "on or off"}[self.sniffing]
        return [
            f"Istio releases: {names(self.releases)} "
            f"({'from ' + self.releases_from if self.releases_from else RELEASES_UNSET})",
            f"inbound protocol sniffing: {sniffing} "
            f"({'from ' + self.sniffing_from if self.sniffing_from else SNIFFING_UNSET})",
        ]

    def data(self) -> dict[str, object]:
        """The assumptions as plain data, for JSON."""
        return {
            "releases": [r.name for r in self.releases],
            "releasesFrom": self.releases_from,
            "inboundSniffing": self.sniffing,
            "inboundSniffingFrom": self.sniffing_from,
        }


_TAG = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def environment_of(
    inventories: Sequence[Inventory], given: Environment | None = None
) -> tuple[Environment, list[Finding]]:
    """The environment a proof assumes: what `given` sets (its `*_from` names where, such
    as "command line"), else what the inputs say, else everything.

    Facts that disagree (sniffing on in one file and off in another) narrow nothing; releases
    found are all considered; a version that cannot be read is reported and ignored."""
    environment = given or Environment()
    findings: list[Finding] = []
    facts = [f for inventory in inventories for f in inventory.istio]
    if not environment.releases_from:
        found, used = _releases_of(facts, findings)
        if found:
            environment = replace(environment, releases=found, releases_from=used)
    said = [f for f in facts if f.kind == "sniffing"]
    values = {bool(f.value) for f in said}
    if not environment.sniffing_from and len(values) == 1:
        environment = replace(
            environment, sniffing=values.pop(), sniffing_from="; ".join(_cite(f) for f in said)
        )
    elif not environment.sniffing_from and values:
        findings.append(
            Finding(
                "AM216",
                Severity.NOTE,
                "the inputs set inbound protocol sniffing both on and off ("
                + "; ".join(_cite(f) for f in said)
                + "); both are considered",
                said[0].location,
            )
        )
    return environment, findings


def _releases_of(
    facts: list[IstioFact], findings: list[Finding]
) -> tuple[tuple[Release, ...], str]:
    """The releases the version facts name, and the sentence citing them."""
    found: dict[Release, None] = {}
    cited = []
    for fact in (f for f in facts if f.kind == "version"):
        match = _TAG.match(str(fact.value))
        release = release_of((int(match[1]), int(match[2]), int(match[3] or 0))) if match else None
        if release is None:
            findings.append(
                Finding(
                    "AM216",
                    Severity.NOTE,
                    f"{fact.source}: {str(fact.value)!r} is not an Istio release the engine "
                    "models; the proof does not rely on it",
                    fact.location,
                )
            )
            continue
        found[release] = None
        if match and match[3] is None:  # "1.5": every release of the series
            for other in RELEASES:
                if other.first[:2] == release.first[:2]:
                    found[other] = None
        cited.append(_cite(fact))
    releases = tuple(sorted(found))
    if len({r.port_precedence for r in releases}) > 1:
        findings.append(
            Finding(
                "AM216",
                Severity.NOTE,
                f"the inputs name releases of 1.4 and later ({names(releases)}); they choose "
                "among alpha policies differently, so the proof does not rely on them "
                "(give --istio-version)",
                Location(""),
            )
        )
        return (), ""
    return releases, "; ".join(cited)


def _cite(fact: IstioFact) -> str:
    return f"{fact.source} at {fact.location}"
