"""Worlds: the releases the two sides of a comparison run on.

Both sides run on the same release wherever both take effect on it; a release only one side
runs on (1.6 for a finished migration, 1.4 when given for the old one) is paired with the
releases the other side runs on, in upgrade order (§C).
"""

from __future__ import annotations

from dataclasses import dataclass

from migrate.model.releases import RELEASES, Release, names


@dataclass(frozen=True, slots=True)
class World:
    """The releases the two sides of a comparison run on: the same release, or (when one
    side cannot run on a release, such as alpha policies on 1.6) the release the old
    configuration ran on before the upgrade."""

    before: Release
    after: Release

    @property
    def label(self) -> str:
        """`1.5.0`, or `1.5.1-1.5.10 -> 1.6` for an upgrade."""
        if self.before == self.after:
            return self.before.name
        return f"{self.before.name} -> {self.after.name}"


def runs_on(release: Release, *, alpha: bool, beta: bool) -> bool:
    """True when a configuration holding alpha (and/or beta) resources takes effect on it."""
    return (release.alpha or not alpha) and (release.beta or not beta)


def worlds(
    releases: tuple[Release, ...],
    *,
    before: tuple[bool, bool],
    after: tuple[bool, bool],
) -> tuple[list[World], list[str]]:
    """The release pairs to compare the sides on, and notes on what that choice means.
    `before`/`after`: whether each side holds alpha and beta resources.

    Both sides run on the same release wherever both take effect on it. A release only the
    new configuration runs on (1.6 for a finished migration) is paired with every earlier
    release the old one ran on, where its users come from; a release only the old one runs on
    (1.4, when given) with every later one the new one runs on. The old configuration is the
    baseline: where it cannot run on any given release it is taken to the nearest it runs on.
    A new configuration that still holds alpha policies is not proven for 1.6 when a 1.5
    release is considered too; asked about 1.6 alone, it is compared as 1.6 enforces it,
    without them.
    """
    notes: list[str] = []
    old = _runnable(releases, *before)
    if not old:
        old = _nearest(releases, *before)
        notes.append(
            f"the old configuration cannot run on {names(releases)}: taken on {names(old)}"
        )
    new = _runnable(releases, *after)
    unenforced = [r for r in releases if not r.alpha and r not in new]
    if not new:
        new = [r for r in releases if r.beta] or _nearest(releases, *after)
        if after[0] and any(not r.alpha for r in new):
            notes.append(
                f"on {names(r for r in new if not r.alpha)} the v1alpha1 policies left in "
                "the new configuration are not enforced, and are compared that way"
            )
        elif not after[0] and all(r not in releases for r in new):
            notes.append(f"the new configuration needs v1beta1: compared on {names(new)}")
    elif after[0] and unenforced:
        notes.append(
            f"not proven for {names(unenforced)}: the new configuration still holds v1alpha1 "
            "policies, which it does not enforce; convert them before upgrading"
        )
    considered = sorted({*releases, *old, *new})
    pairs = [World(r, r) for r in considered if r in old and r in new]
    pairs += [World(b, a) for a in new if a not in old for b in old if b < a]
    pairs += [World(b, a) for b in old if b not in new for a in new if b < a]
    return list(dict.fromkeys(pairs)), notes


def _runnable(releases: tuple[Release, ...], alpha: bool, beta: bool) -> list[Release]:
    return [r for r in releases if runs_on(r, alpha=alpha, beta=beta)]


def _nearest(releases: tuple[Release, ...], alpha: bool, beta: bool) -> list[Release]:
    """The releases closest to the given ones that a configuration runs on: the last that
    enforced alpha for alpha policies asked about on 1.6, the first with beta for beta
    resources asked about on 1.4."""
    runnable = [r for r in RELEASES if runs_on(r, alpha=alpha, beta=beta)]
    if not runnable:
        return []
    if all(r.first > runnable[-1].last for r in releases):
        return [runnable[-1]]
    later = [r for r in RELEASES if r.beta and runs_on(r, alpha=alpha, beta=beta)]
    return later or [runnable[0]]
