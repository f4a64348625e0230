"""The registry of finding codes: each stable code with its title and the fix, in plain words.

Codes never change meaning once released, and their hundreds say what they are about
(`Category`): AM0xx reading input, AM1xx validating resources, AM2xx what a scan finds, AM3xx
what keeps a proof from being exact, AM4xx what `convert` left alone or widened, AM5xx review,
AM6xx DestinationRule and client mTLS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Category(enum.IntEnum):
    """What a code is about: the hundreds of its number."""

    READING = 0
    VALIDATION = 1
    SCAN = 2
    PROOF = 3
    CONVERSION = 4
    REVIEW = 5
    CLIENTS = 6


@dataclass(frozen=True, slots=True)
class Code:
    """A finding code: its identifier, a short title, and what the user should do."""

    id: str
    title: str
    fix: str

    @property
    def category(self) -> Category:
        """What the code is about (AM3xx: the proof)."""
        return category(self.id)


def category(identifier: str) -> Category:
    """The category of a code identifier such as `AM302`."""
    return Category(int(identifier[2]))


CODES: dict[str, Code] = {
    c.id: c
    for c in (
        Code("AM001", "invalid YAML", "Fix the syntax at the position shown; `yamllint` helps."),
        Code(
            "AM002",
            "document is not a mapping",
            "Every Kubernetes document is a mapping with apiVersion and kind; remove or fix it.",
        ),
        Code(
            "AM003",
            "file is not text in a known encoding",
            "Save the file as UTF-8 (UTF-16 and UTF-32 need a byte-order mark).",
        ),
        Code(
            "AM004",
            "template skipped",
            "Render the template first: `helm template ... | authn-migrate scan -`.",
        ),
        Code(
            "AM005",
            "duplicate mapping key",
            "Kubernetes clients reject duplicate keys; keep one of them.",
        ),
        Code("AM006", "file cannot be read", "Check the file's permissions and that it exists."),
        Code(
            "AM007",
            "symbolic link leaves the tree",
            "The link was not followed; pass its target explicitly if it should be read.",
        ),
        Code(
            "AM008",
            "too many aliases",
            "The document expands to an excessive size through YAML aliases; expand them by hand.",
        ),
        Code(
            "AM009",
            "structure too deep or recursive",
            "Flatten the document (or raise --limit depth=N on the command line); recursive "
            "aliases cannot be converted to JSON.",
        ),
        Code("AM010", "invalid JSON", "Fix the JSON syntax at the position shown."),
        Code("AM011", "path does not exist", "Check the path given on the command line."),
        Code(
            "AM012",
            "YAML tag ignored",
            "Kubernetes ignores application tags; the value was read as plain data.",
        ),
        Code(
            "AM013",
            "namespace chosen for a document without one",
            "Set metadata.namespace, or pass --namespace, to make the choice explicit.",
        ),
        Code(
            "AM014",
            "unrendered template placeholder",
            "A value still holds {{ ... }}; render the template and scan its output.",
        ),
        Code(
            "AM015",
            "file name is not UTF-8",
            "Rename the file with a UTF-8 name; the file was not read.",
        ),
        Code(
            "AM016",
            "string is not text",
            "A JSON escape such as \\ud800 names half of a UTF-16 pair; write the whole "
            "character (the value was read as U+FFFD, as Kubernetes reads it).",
        ),
        Code(
            "AM017",
            "number out of range",
            "Kubernetes reads 64-bit integers; quote the value if it is text, else fix it.",
        ),
        Code(
            "AM018",
            "not a namespace name",
            "A namespace is a DNS-1123 label (lowercase letters, digits and '-'); fix the "
            "kustomization's or mesh config's value, which was ignored.",
        ),
        Code(
            "AM019",
            "file over a limit",
            "The file exceeds a limit on its bytes, documents or keys and list items and was "
            "not read; if it is genuine, raise the limit on the command line (--limit NAME=N).",
        ),
        Code(
            "AM020",
            "overlay not built",
            "What an environment applies is `kustomize build` of its overlay: put kustomize or "
            "kubectl on PATH, make the overlay build, and keep its resources local (remote "
            "resources, Helm charts and folders outside the inputs are not fetched).",
        ),
        Code(
            "AM101",
            "resource does not match its schema",
            "Correct the field named; Istio's validation webhook (or, for a Service or workload "
            "field authn-migrate reads, the API server) would reject the resource.",
        ),
        Code(
            "AM102",
            "unknown field",
            "Istio silently drops unknown fields, so a misspelt key changes security; fix it.",
        ),
        Code(
            "AM103",
            "rejected by Istio's validation",
            "Istio's admission webhook refuses this resource; correct it before migrating.",
        ),
        Code(
            "AM104",
            "both spellings of a field",
            "Istio reads the camelCase spelling and ignores the snake_case one; keep one.",
        ),
        Code(
            "AM105",
            "null mTLS peer",
            "`- mtls:` means STRICT only if the null survives the API server; write `mtls: {}`.",
        ),
        Code(
            "AM106",
            "feature never available",
            "Peer JWT authentication never worked in Istio; use origins for JWT.",
        ),
        Code(
            "AM301",
            "cannot prove: a condition the engine does not model",
            "Remove or rewrite the condition, or review this resource by hand; nothing is "
            "claimed equivalent while it is present.",
        ),
        Code(
            "AM302",
            "cannot prove: a regex the engine cannot handle",
            "Rewrite the trigger rule as exact, prefix or suffix matches.",
        ),
        Code(
            "AM303",
            "pods named only by a policy",
            "Verification treated them as unseen pods; add their Service and workload "
            "manifests, or pass them with --inventory, for an exact result.",
        ),
        Code(
            "AM401",
            "policy left as it is",
            "The message says why (ignored by Istio, invalid, embedded, or replaced by a later "
            "definition) and which option converts it anyway.",
        ),
        Code(
            "AM402",
            "policy has no exact v1beta1 form",
            "The message says what cannot be expressed; rewrite the policy, or use the option "
            "it names to accept a stricter result.",
        ),
        Code(
            "AM403",
            "who reads request.auth.principal",
            "After the migration it is the token's iss/sub; review the AuthorizationPolicies "
            "named, which the proof compares request by request.",
        ),
        Code(
            "AM404",
            "regex replaced by a wider path match",
            "A token is now required on more paths (--allow-stricter); write the trigger rule "
            "as exact, prefix or suffix matches for an exact conversion.",
        ),
        Code(
            "AM405",
            "peerIsOptional dropped",
            "Nothing to do unless peers from another trust domain relied on it; then add an "
            "AuthorizationPolicy for them.",
        ),
        Code(
            "AM406",
            "converted for every protocol the port may have",
            "The port's protocol is left to sniffing: the JWT requirement covers it, and non-HTTP "
            "connections to it are refused. Name the port, or give --inbound-sniffing.",
        ),
        Code(
            "AM407",
            "converted for every Service port that may build the listener",
            "The strictest of the candidate policies is kept; give each Service port its own "
            "targetPort for an exact conversion.",
        ),
        Code(
            "AM408",
            "earlier definition removed",
            "A later definition in the same file replaced it, so Istio never applied it; it is "
            "removed with the conversion of the later one.",
        ),
        Code(
            "AM409",
            "origin that never verified a token",
            "A MeshPolicy origin without jwks or jwksUri had no keys (no OpenID discovery for "
            "MeshPolicy), so its paths refused every request; add the jwksUri you meant.",
        ),
        Code(
            "AM410",
            "file cannot be rewritten in place",
            "Its policies, and the rest of their namespace, are left as they are (with "
            "--all-or-nothing, nothing is written): fix the input errors of the file, or stream "
            "the new resources with -o yaml and edit it by hand.",
        ),
        Code(
            "AM411",
            "conversion left out of the write",
            "The rest was written without it, proven not looser: the message shows the request "
            "its namespace's conversion would let through (fix it, or --accept it after review), "
            "or names the file that cannot be rewritten. Run convert again once that is done.",
        ),
        Code(
            "AM412",
            "replacements already in the inputs",
            "Nothing to do: the beta resources an earlier conversion or plan stage committed "
            "beside the policy say what its conversion would, so only the policy is removed; "
            "the proof compares the tree as it is, alpha and beta, with the tree after.",
        ),
        Code(
            "AM413",
            "policy patched by an overlay",
            "Its patches could not be made patches of the new resources (the message says why, "
            "and names them): give each patch an exact target, make the overlay build, or "
            "rewrite the patch for the new resources by hand, then convert the policy.",
        ),
        Code(
            "AM501",
            "looser difference",
            "A request the old configuration denied is now allowed: fix the new resources, or "
            "sign the cause off with --accept after review.",
        ),
        Code(
            "AM502",
            "stricter difference",
            "A request the old configuration allowed is now denied: check clients are ready.",
        ),
        Code(
            "AM503",
            "status-only difference",
            "Denied before and after with another status (often 401 became 403).",
        ),
        Code(
            "AM504",
            "compatible difference",
            "A connection that failed only on a protocol mismatch now works.",
        ),
        Code(
            "AM505",
            "more annotations than shown",
            "GitHub shows about ten annotations of a kind per step: the rest are in the job "
            "summary, and every one in -o sarif and -o json.",
        ),
        Code(
            "AM511",
            "resource defined twice",
            "Keep one definition; applied in order, the later replaces the earlier.",
        ),
        Code(
            "AM512",
            "PeerAuthentication with a selector in the root namespace",
            "Istio ignores it; move it to the workload's namespace.",
        ),
        Code(
            "AM513",
            "resource in the root namespace applies mesh-wide",
            "Intended for mesh-wide rules only; move namespace rules to their namespace.",
        ),
        Code(
            "AM514",
            "new resource reaches more workloads than the policy it replaces",
            "Narrow its selector to the pods the old policy's Services selected.",
        ),
        Code(
            "AM601",
            "mTLS conflict left to fix by hand",
            "The message says why the DestinationRule was not edited; add a rule for the "
            "host with the tls mode the server accepts.",
        ),
        Code(
            "AM602",
            "a client that worked now conflicts",
            "The message names the DestinationRule and the tls mode the server now needs; "
            "`authn-migrate tls-check --fix` edits it.",
        ),
        Code(
            "AM201",
            "alpha policy found",
            "Migrate it to security.istio.io/v1beta1 before upgrading to Istio 1.6.",
        ),
        Code(
            "AM202",
            "target Service not found",
            "Add the Service's manifest to the inputs, or pass it with --inventory.",
        ),
        Code(
            "AM203",
            "target port not found on the Service",
            "Select a port the Service declares, by number or by name.",
        ),
        Code(
            "AM204",
            "named targetPort not declared by any selected container",
            "Declare the containerPort name in the workload, or add the workload (--inventory).",
        ),
        Code(
            "AM205",
            "policy ignored by Istio",
            "Istio uses only a MeshPolicy named `default` and namespace Policies named `default`.",
        ),
        Code(
            "AM206",
            "several policies compete for one service port",
            "Istio applies only the oldest; merge them into one policy.",
        ),
        Code(
            "AM207",
            "policy embedded in a ConfigMap",
            "Migrate the embedded policy too; it is applied by a job, not by this file.",
        ),
        Code(
            "AM208",
            "Service selects no workload in the inputs",
            "Add the workload's manifest or pass it with --inventory to see what is affected.",
        ),
        Code(
            "AM209",
            "mesh config found",
            "The root namespace was taken from the mesh config in the inputs.",
        ),
        Code(
            "AM210",
            "target selected by labels",
            "TargetSelector.labels was never implemented; Istio ignores this target.",
        ),
        Code(
            "AM211",
            "Service has no selector",
            "A Service without a selector cannot be mapped to workloads; add an inventory.",
        ),
        Code(
            "AM212",
            "trigger rules look like a mistake",
            "Items are ORed: an item with only excludedPaths beside one with only includedPaths "
            "requires JWT on every path.",
        ),
        Code(
            "AM213",
            "principalBinding USE_ORIGIN without origins",
            "Istio rejects every request to this target with 401; add an origin or remove it.",
        ),
        Code(
            "AM214",
            "resource defined more than once",
            "Applied in order, the later definition replaces the earlier; keep one.",
        ),
        Code(
            "AM215",
            "resource defined in several files",
            "Which file is applied last is not set by the inputs, so each definition is "
            "proven in force in turn; keep one.",
        ),
        Code(
            "AM216",
            "Istio release not usable",
            "The inputs name a version the engine does not model; give --istio-version.",
        ),
        Code(
            "AM217",
            "port protocol left to sniffing",
            "Name the Service port with its protocol (http-..., tcp-...) or set appProtocol, "
            "or give --inbound-sniffing on|off.",
        ),
        Code(
            "AM218",
            "one container port behind several Service ports",
            "Istio builds one listener per container port, from the first Service port; give "
            "each Service port its own targetPort, or keep their policies alike.",
        ),
    )
}


def code(identifier: str) -> Code:
    """The registered code; an unknown identifier is a programming error."""
    return CODES[identifier]


def markdown() -> str:
    """The reference page of every code (docs/findings.md is this text)."""
    lines = [
        "# Finding codes",
        "",
        "Every finding authn-migrate reports carries one of these stable codes. A code never",
        "changes meaning once released. This page is generated from `migrate/codes.py`",
        "(`python -m migrate.codes > docs/findings.md`).",
        "",
        "| code | what | what to do |",
        "| --- | --- | --- |",
    ]
    pipe = "\\|"
    lines += [
        f"| {c.id} | {c.title} | {c.fix.replace('|', pipe)} |"
        for c in sorted(CODES.values(), key=lambda c: c.id)
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
