"""The whole CLI against generated repositories: random alpha policies beside a Service and
its Deployment, sometimes beta resources, sometimes broken files. No command ever ends in a
traceback or exit 4; and whenever `verify` or `convert` finds nothing looser, brute force
over concrete requests (every witness request with boundary and random paths, decided by
`migrate.semantics.decide`) finds no request the new side allows that the old denied.

CI runs a few dozen repositories per test (profile "ci", derandomized); HYPOTHESIS_PROFILE=long
runs hundreds."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from semantics_kit import APP, side
from test_crosscheck import BOUNDARY, LITERAL, alpha_policy, beta_config
from typer.testing import CliRunner

from migrate.cli import app
from migrate.model.releases import DEFAULT
from migrate.semantics.equivalence import Change, differ
from migrate.semantics.proof import classes
from migrate.semantics.side import Settings
from migrate.semantics.space import requests
from migrate.semantics.worlds import worlds

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
CLI_EXAMPLES = 400 if LONG else 40
PROOF_EXAMPLES = 1_500 if LONG else 60
GARBAGE = [
    "a: {b: 1\n",
    "- just\n- a list\n",
    "spec:\n\tpeers: []\n",
    "apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: ns}\nspec: {ports: http}\n",
    "a: &a [*a]\n",
    "{{ .Values.policy }}\n",
    "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\nmetadata: {name: q}\n"
    "spec: {peers: mtls}\n",
    "apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\n"
    "metadata: {name: z, namespace: ns}\nspec: {action: MAYBE}\n",
]
COMMANDS = [
    ["scan", "."],
    ["scan", ".", "-o", "json"],
    ["verify", "."],
    ["convert", ".", "--check"],
    ["convert", ".", "-o", "yaml"],
    ["plan", ".", "--out", "{tmp}/plan"],
    ["tls-check", "."],
]


@st.composite
def alpha_policies(draw: st.DrawFn, min_size: int = 0) -> str:
    """Up to two alpha policies that do not redefine each other (two namespace policies are
    both named default, and the later would replace the earlier)."""
    drawn = [draw(alpha_policy(name)) for name in ("p", "q")[: draw(st.integers(min_size, 2))]]
    if sum("name: default," in policy for policy in drawn) > 1:
        drawn = drawn[:1]
    return "".join(drawn)


@st.composite
def repository(draw: st.DrawFn) -> dict[str, str | bytes]:
    """A small repository: the app, alpha policies, maybe beta resources and broken files."""
    files: dict[str, str | bytes] = {"app.yaml": APP}
    files["authn.yaml"] = draw(alpha_policies())
    if draw(st.booleans()):
        files["security.yaml"] = draw(beta_config())
    for index, broken in enumerate(draw(st.lists(st.sampled_from(GARBAGE), max_size=2))):
        files[f"broken-{index}.yaml"] = broken
    if draw(st.booleans()):
        files["noise.yaml"] = draw(st.binary(max_size=60))
    return files


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, data in files.items():
        if isinstance(data, bytes):
            (root / name).write_bytes(data)
        else:
            (root / name).write_text(data)


@settings(max_examples=CLI_EXAMPLES)
@given(files=repository())
def test_no_command_ends_in_a_traceback(files: dict[str, str | bytes]) -> None:
    """Every command exits 0, 1, 2 or 3 on any generated repository, never with a traceback."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        _write(root, files)
        previous = Path.cwd()
        os.chdir(root)
        try:
            for command in COMMANDS:
                args = [a.format(tmp=tmp) for a in command]
                result = CliRunner().invoke(app, args)
                assert result.exit_code in (0, 1, 2, 3), (args, result.output)
                assert "Traceback" not in result.output, (args, result.output)
                assert "internal error" not in result.output, (args, result.output)
        finally:
            os.chdir(previous)


def looser_requests(before: str, after: str, extra: list[str]) -> list[object]:
    """Concrete requests that `after` allows and `before` denied, on any release pair the
    comparison considers: every witness request of every destination class, at every
    boundary and extra path."""
    old, inventory = side(before)
    new, _ = side(after)
    pairs, _ = worlds(
        DEFAULT, before=(bool(old.alpha), bool(old.beta)), after=(bool(new.alpha), bool(new.beta))
    )
    found = []
    for group in classes(old, new, inventory):
        shapes = {(r.peer, r.token, r.method, r.headers): r for r in requests(group, raw=True)}
        for witness in shapes.values():  # every path is tried below: one request per shape
            for path in BOUNDARY + extra if group.destination.http else [witness.path]:
                concrete = witness.__class__(
                    witness.destination,
                    witness.peer,
                    witness.token,
                    path,
                    witness.method,
                    witness.headers,
                )
                for pair in pairs:
                    difference = differ(
                        group.before,
                        group.after,
                        concrete,
                        Settings(pair.before),
                        Settings(pair.after),
                    )
                    if difference is not None and difference.change is Change.LOOSER:
                        found.append(concrete)
    return found


def _in_repo(files: dict[str, str], args: list[str]) -> tuple[int, str, dict[str, str]]:
    """Run the CLI on folders each holding the app and one text (`authn.yaml`); the exit
    code, the standard output, and each folder's `authn.yaml` afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        for folder, text in files.items():
            (Path(tmp) / folder).mkdir()
            (Path(tmp) / folder / "app.yaml").write_text(APP)
            (Path(tmp) / folder / "authn.yaml").write_text(text)
        result = CliRunner().invoke(app, [a.format(tmp=tmp) for a in args])
        assert "Traceback" not in result.output, result.output
        after = {folder: (Path(tmp) / folder / "authn.yaml").read_text() for folder in files}
        return result.exit_code, result.stdout, after


@settings(max_examples=PROOF_EXAMPLES)
@given(
    before=alpha_policies(),
    after=beta_config(),
    extra=st.lists(LITERAL.filter(lambda p: p.startswith("/")), max_size=3),
)
def test_verify_never_calls_looser_equivalent(before: str, after: str, extra: list[str]) -> None:
    """When verify BEFORE AFTER exits 0 or 1 (nothing looser), brute force finds no concrete
    request the new side allows that the old denied."""
    code, output, _ = _in_repo(
        {"before": before, "after": after}, ["verify", "{tmp}/before", "{tmp}/after", "-o", "json"]
    )
    assert code in (0, 1, 2, 3), output
    verdict = json.loads(output)
    assert verdict["exitCode"] == code
    if code in (0, 1):
        assert looser_requests(before, after, extra) == []


@settings(max_examples=PROOF_EXAMPLES)
@given(
    before=alpha_policies(min_size=1),
    extra=st.lists(LITERAL.filter(lambda p: p.startswith("/")), max_size=3),
)
def test_convert_never_writes_a_looser_result(before: str, extra: list[str]) -> None:
    """Whatever convert --write writes (new resources, and the policies it left as they
    were), brute force finds no request it allows that the alpha policies denied; a looser
    result (exit 3) writes nothing."""
    code, output, written = _in_repo({"before": before}, ["convert", "{tmp}/before", "--write"])
    assert code in (0, 2, 3), output
    if code == 3:
        assert written["before"] == before
    assert looser_requests(before, written["before"], extra) == []
