"""authn-migrate: migrate Istio v1alpha1 authentication policies to v1beta1, proven equivalent.

The public library API; the CLI (`migrate.cli`) is a thin layer over it.
"""

from __future__ import annotations

from migrate.commands.convert import ConvertResult, convert_paths
from migrate.commands.scan import PolicyScan, ScanReport, scan
from migrate.commands.verify import verify_paths, verify_tree
from migrate.convert.model import ConvertOptions
from migrate.exitcodes import ExitCode
from migrate.findings import Finding, Location, Severity
from migrate.load.documents import Document, LoadResult, Origin, load_paths
from migrate.semantics.proof import VerifyOptions, VerifyReport
from migrate.workspace import Workspace, WorkspaceOptions, open_workspace

__version__ = "0.1.0.dev0"

__all__ = [
    "ConvertOptions",
    "ConvertResult",
    "Document",
    "ExitCode",
    "Finding",
    "LoadResult",
    "Location",
    "Origin",
    "PolicyScan",
    "ScanReport",
    "Severity",
    "VerifyOptions",
    "VerifyReport",
    "Workspace",
    "WorkspaceOptions",
    "__version__",
    "convert_paths",
    "load_paths",
    "open_workspace",
    "scan",
    "verify_paths",
    "verify_tree",
]
