"""The summary a proving command opens with: one line per v1alpha1 policy (what it became, the
verdict for the requests it governs, its worst difference with one witness (the plainest
request of its first cause, `migrate.render.fold`), or why it was left
as it is), then the causes of each policy, capped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from migrate.render.fold import first_witness
from migrate.semantics.curl import request_text
from migrate.semantics.equivalence import Cause, Change
from migrate.semantics.proof import VerifyReport

NO_POLICY = "(no v1alpha1 policy)"
"""Where causes go that no policy decided on either side."""

_RANK = {Change.LOOSER: 0, Change.STRICTER: 1, Change.STATUS_ONLY: 2, Change.COMPATIBLE: 3}


@dataclass(slots=True)
class PolicySummary:
    """One policy's part of a comparison."""

    ref: str
    became: tuple[str, ...] = ()
    causes: list[Cause] = field(default_factory=list)
    left: str = ""
    """Why the policy was left as it is ("" when it was not)."""

    @property
    def worst(self) -> Change | None:
        """The most serious change among its causes (None when there are none)."""
        return min((c.change for c in self.causes), key=_RANK.__getitem__, default=None)

    def line(self) -> str:
        """The summary line: `ref -> resources: VERDICT (counts): witness`."""
        head = (
            f"{self.ref}: left as it is ({self.left})"
            if self.left
            else self.ref + (f" -> {', '.join(self.became)}" if self.became else "")
        )
        worst = self.worst
        if worst is None:
            return head if self.left else f"{head}: equivalent"
        counts = [
            f"{n} {change.value}"
            for change in _RANK
            if (n := sum(1 for c in self.causes if c.change is change))
        ]
        inherent = sum(1 for c in self.causes if c.inherent)
        tail = f"; {inherent} inherent" if inherent else ""
        witness = first_witness(self.causes, worst)
        assert witness is not None, "worst is the change of one of the causes"
        return f"{head}: {worst.value.upper()} ({', '.join(counts)}{tail}): {request_text(witness)}"


def subject(cause: Cause, origins: Mapping[str, tuple[str, ...]]) -> str:
    """The v1alpha1 policy a cause belongs to: what decided the side that denies (the old
    side for looser and compatible causes, else the new), a converted resource standing for
    the policy it came from."""
    first, second = (
        (cause.before, cause.after)
        if cause.change in (Change.LOOSER, Change.COMPATIBLE)
        else (cause.after, cause.before)
    )
    for outcome in (first, second):
        for ref in outcome.decided_by:
            return origins.get(ref, (ref,))[0]
    return NO_POLICY


def by_policy(report: VerifyReport, left: Mapping[str, str] | None = None) -> list[PolicySummary]:
    """Every policy of the old configuration with its causes, the most serious first; then
    those left as they are (`left`: reference to reason)."""
    left = left or {}
    became: dict[str, list[str]] = {}
    for ref, origins in report.origins.items():
        for origin in origins:
            became.setdefault(origin, []).append(ref)
    found: dict[str, PolicySummary] = {
        ref: PolicySummary(ref, tuple(became.get(ref, ())), left=left.get(ref, ""))
        for ref in (*report.policies, *left)
    }
    for cause in report.causes:
        ref = subject(cause, report.origins)
        if ref not in found:
            found[ref] = PolicySummary(ref, tuple(became.get(ref, ())), left=left.get(ref, ""))
        found[ref].causes.append(cause)
    for summary in found.values():
        summary.causes.sort(key=_telling)
    return sorted(
        found.values(),
        key=lambda s: (
            bool(s.left),
            _RANK[s.worst] if s.worst is not None else len(_RANK),
            s.ref == NO_POLICY,
            s.ref,
        ),
    )


def _telling(cause: Cause) -> tuple[int, bool, bool]:
    """Most serious first; among equals, those a v1beta1 configuration could avoid and those
    on ports a Service declares come first (they say most about the policy)."""
    return (_RANK[cause.change], bool(cause.inherent), cause.witness.destination.spare)
