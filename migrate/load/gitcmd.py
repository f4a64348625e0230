"""Running git on a repository the tool does not trust: the one place that starts git.

A repository's own configuration (`.git/config`, and a bare repository planted in the tree)
can name programs that git runs on ordinary read-only commands: an fsmonitor hook on every
command that looks at the work tree, hooks, a pager, diff and textconv drivers, filters, and
transports that fetch missing objects (`ext::` runs a command). Every call here overrides
those settings on git's command line, which wins over any configuration file:

    git --no-pager -c core.fsmonitor=false -c core.hooksPath=/dev/null -c core.pager=cat
        -c protocol.allow=never -c safe.bareRepository=explicit ... -C WHERE SUBCOMMAND

with `--no-ext-diff --no-textconv` after a subcommand that diffs, and an environment without
the system configuration (`GIT_CONFIG_NOSYSTEM`), prompts, optional index writes, replace
objects, lazy fetches or any transport (`GIT_ALLOW_PROTOCOL` empty: a repository's
`protocol.ext.allow=always` would otherwise win over `-c protocol.allow=never`).

The user's global configuration is kept: it is the user's own, and it holds
`safe.directory`, which git needs to open a checkout owned by another user.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from migrate.errors import MigrateError

HARDENING = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.untrackedCache=false",
    "protocol.allow=never",
    "safe.bareRepository=explicit",
)
"""Settings given with `-c` on every call: no program named by the repository runs."""
_DIFFING = frozenset({"diff", "diff-tree", "diff-index", "diff-files", "log", "show"})
_ENVIRONMENT = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_ALLOW_PROTOCOL": "",  # no transport at all, whatever protocol.<name>.allow says
    "GIT_PAGER": "cat",
}
_DROPPED = ("GIT_EXTERNAL_DIFF", "GIT_EXEC_PATH")


class GitError(MigrateError):
    """git could not answer (not a repository, unknown revision, git missing)."""


def git_command(where: Path, *args: str) -> list[str]:
    """The argument list that runs `git args...` in `where` with the repository's programs
    switched off."""
    options = [part for setting in HARDENING for part in ("-c", setting)]
    command = ["git", "--no-pager", *options, "-C", os.fsdecode(where)]
    if args and args[0] in _DIFFING:
        return [*command, args[0], "--no-ext-diff", "--no-textconv", *args[1:]]
    return [*command, *args]


def git_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment git runs in: the caller's, without the system configuration, prompts,
    optional locks, replace objects, lazy fetches and transports."""
    environment = dict(os.environ if environ is None else environ)
    for name in _DROPPED:
        environment.pop(name, None)
    environment.update(_ENVIRONMENT)
    return environment


def run_git(
    where: Path, *args: str, stdin: bytes | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[bytes]:
    """Run git in `where` and return the finished process, whatever its exit status.

    Raises GitError when git cannot be started or does not finish within `timeout` seconds.
    """
    try:
        return subprocess.run(
            git_command(where, *args),
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
            env=git_environment(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"cannot run git: {exc}") from None


def git_output(where: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """git's standard output; raises GitError with git's message when it fails."""
    result = run_git(where, *args, stdin=stdin)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip() or f"git {args[0]} failed"
        raise GitError(message)
    return result.stdout
