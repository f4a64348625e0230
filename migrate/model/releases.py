"""Istio releases, and the behaviours the engine models differently between them.

One table names every behaviour that changes with the release, as black maps its target
versions to features; nothing else in the engine compares version numbers. A `Release` is a
range of releases that behave alike for everything the engine models:

    1.4.0         no CORS preflight bypass (§A.7), trigger rules see the query (§A.7),
                  an older port-less alpha policy beats a port-specific one (§A.5)
    1.4.1-1.4.3   CORS preflights bypass origin authentication
    1.4.4-1.4.10  trigger rules see the path without its query (CVE-2020-8595)
    1.5.0         v1beta1 added; port-specific alpha policies win (§A.5); a jwtRule without
                  keys verifies no token (§B.3)
    1.5.1-1.5.10  OpenID discovery gives a jwtRule without keys its issuer's keys (§B.3)
    1.6           v1alpha1 no longer enforced (§C); Service `appProtocol` decides a port's
                  protocol (§F)

Where the inputs do not say which release runs them, every release the repository can run on
is considered (`DEFAULT`), and the worst outcome is reported (`migrate.semantics.worlds`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

Version = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Release:
    """A range of Istio releases (`first` to `last`, inclusive) that behave alike."""

    name: str
    first: Version
    last: Version
    alpha: bool
    """v1alpha1 policies are enforced (removed in 1.6, §C)."""
    beta: bool
    """v1beta1 security resources exist (from 1.5, §B)."""
    port_precedence: bool
    """A port-specific alpha policy beats an older port-less one (1.5.0 fix, §A.5)."""
    cors_bypass: bool
    """CORS preflights bypass alpha origin authentication (proxy 1.4.1, §A.7)."""
    strip_query: bool
    """Alpha trigger rules match the path without its query (proxy 1.4.4, §A.7)."""
    beta_discovery: bool
    """A jwtRule without `jwks`/`jwksUri` gets its issuer's keys by OpenID discovery
    (1.5.1, §B.3); before that it verifies no token."""
    app_protocol: bool
    """A Service port's `appProtocol` decides its protocol before its name (1.6, §F)."""

    def __str__(self) -> str:
        return self.name

    def __lt__(self, other: Release) -> bool:
        return self.first < other.first


RELEASES: tuple[Release, ...] = (
    Release("1.4.0", (1, 4, 0), (1, 4, 0), True, False, False, False, False, False, False),
    Release("1.4.1-1.4.3", (1, 4, 1), (1, 4, 3), True, False, False, True, False, False, False),
    Release("1.4.4-1.4.10", (1, 4, 4), (1, 4, 10), True, False, False, True, True, False, False),
    Release("1.5.0", (1, 5, 0), (1, 5, 0), True, True, True, True, True, False, False),
    Release("1.5.1-1.5.10", (1, 5, 1), (1, 5, 10), True, True, True, True, True, True, False),
    Release("1.6", (1, 6, 0), (1, 6, 14), False, True, True, True, True, True, True),
)
BY_NAME = {r.name: r for r in RELEASES}
DEFAULT: tuple[Release, ...] = tuple(r for r in RELEASES if r.beta)
"""Every release a migrated repository can run on: 1.5.0, the rest of 1.5, and 1.6."""
DEFAULT_RELEASE = BY_NAME["1.5.0"]
"""The release a single evaluation assumes when none is given (library callers)."""

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


class UnknownRelease(ValueError):
    """A version the engine does not model (the message lists those it does)."""


def parse_releases(text: str) -> tuple[Release, ...]:
    """Releases for a comma-separated list of versions: `1.5` is every 1.5 release, `1.5.2`
    one. Raises UnknownRelease for anything outside 1.4.0-1.6.14, and for a list that mixes
    1.4 with later releases (they choose among alpha policies differently, §A.5)."""
    found: dict[str, Release] = {}
    for part in (p.strip() for p in text.split(",")):
        match = _VERSION.match(part)
        if not match:
            raise UnknownRelease(f"expected a version such as 1.5 or 1.4.6, got {part!r}")
        major, minor = int(match[1]), int(match[2])
        patch = None if match[3] is None else int(match[3])
        chosen = [
            r
            for r in RELEASES
            if (major, minor) == r.first[:2] and (patch is None or r.first[2] <= patch <= r.last[2])
        ]
        if not chosen:
            raise UnknownRelease(
                f"Istio {part} is not modelled: give a release from 1.4.0 to 1.6.14 "
                "(later releases enforce v1beta1 as 1.6 does: give 1.6)"
            )
        found.update((r.name, r) for r in chosen)
    releases = tuple(sorted(found.values()))
    if len({r.port_precedence for r in releases}) > 1:
        raise UnknownRelease(
            "1.4 and later releases choose among alpha policies differently "
            "(docs/semantics.md §A.5); "
            "prove them in separate runs"
        )
    return releases


def names(releases: Iterable[Release]) -> str:
    """`1.5.0, 1.5.1-1.5.10, 1.6`."""
    return ", ".join(r.name for r in sorted(releases))


def release_of(version: Version) -> Release | None:
    """The release range a concrete version falls in, None outside the table."""
    return next((r for r in RELEASES if r.first <= version <= r.last), None)
