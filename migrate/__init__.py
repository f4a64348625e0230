"""authn-migrate: migrate Istio v1alpha1 authentication policies to v1beta1, proven equivalent.

The public library API; the CLI (`migrate.cli`) is a thin layer over it.
"""

from __future__ import annotations

from migrate.exitcodes import ExitCode
from migrate.findings import Finding, Location, Severity
from migrate.load import Document, LoadResult, Origin, load_paths
from migrate.scan import PolicyScan, ScanReport, scan
from migrate.workspace import Workspace, WorkspaceOptions, open_workspace

__version__ = "0.1.0.dev0"

__all__ = [
    "Document",
    "ExitCode",
    "Finding",
    "LoadResult",
    "Location",
    "Origin",
    "PolicyScan",
    "ScanReport",
    "Severity",
    "Workspace",
    "WorkspaceOptions",
    "__version__",
    "load_paths",
    "open_workspace",
    "scan",
]
