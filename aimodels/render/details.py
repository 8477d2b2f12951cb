"""Detail views of the read commands: ``models show``, ``deployments show``, ``access`` and
the usage line of ``chat``. Sections of ``Label: value`` lines, as seeds 000/001 print them.

Strings out, no I/O. ``render_access`` prints keys in full only when told to; the examples
read the key from ``$AIMODELS_API_KEY`` so they can be pasted without one on screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from aimodels.model.kinds import MODEL_DEPLOYMENT
from aimodels.render.tables import (
    NONE,
    model_text,
    scale_text,
    size_text,
    to_text,
    tokens_text,
    when_text,
)
from aimodels.service.access import KEY_VARIABLE, AccessInfo
from aimodels.service.catalog import CatalogModel, CustomModel
from aimodels.service.catalog_foundry import FoundryModel, context_length
from aimodels.service.chat import ChatAnswer
from aimodels.service.deployments import DeploymentRow
from aimodels.service.uploads import Upload
from aimodels.transport.config import INFERENCE_API_VERSION

Fields = Sequence[tuple[str, object]]


def section(title: str | None, fields: Fields) -> list[RenderableType]:
    """A bold title, then ``Label:  value`` lines indented by two; empty values skipped."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in fields:
        if value is None or value == "" or value == {}:
            continue
        grid.add_row(Text(f"  {label}:"), Text(str(value)))
    head = [Text(title, style="bold")] if title else []
    return [*head, grid, Text("")]


def commands(title: str, lines: Iterable[str]) -> list[RenderableType]:
    return [Text(title, style="bold"), *(Text(f"  {line}") for line in lines), Text("")]


def render_model(model: CatalogModel | FoundryModel | CustomModel, *, color: bool = False,
                 width: int | None = None) -> str:
    """``models show``: a catalog model's spec (AI manager or Foundry catalog), or every
    version of a custom model."""
    if isinstance(model, CatalogModel):
        parts = _catalog_model(model)
    elif isinstance(model, FoundryModel):
        parts = _foundry_model(model)
    else:
        parts = _custom_model(model)
    return to_text(parts, color=color, width=width)


def _foundry_model(model: FoundryModel) -> list[RenderableType]:
    parts = section(f"Base model: {model.name}", [
        ("Catalog", f"Foundry, {model.location} (a FoundryDeployment deploys it)"),
        ("Format", model.format), ("Default version", model.default_version),
    ])
    for version in model.versions:
        default = " (default)" if version.get("isDefaultVersion") else ""
        parts += section(f"Version {version.get('version')}{default}", _foundry_fields(version))
    spec = f"{{format: {model.format}, name: {model.name}, version: \"{model.default_version}\"}}"
    return parts + commands("Next steps:", [
        f"aimodels availability {model.format}/{model.name}   # regions, SKUs and quota",
        f"aimodels deployments list --model {model.name}",
        f"# a FoundryDeployment manifest: spec.model: {spec}",
    ])


def _foundry_fields(version: Mapping[str, Any]) -> Fields:
    caps = version.get("capabilities") or {}
    features = ", ".join(k for k, v in sorted(caps.items()) if v == "true")
    skus = ", ".join(str(s.get("name")) for s in version.get("skus") or ())
    retire = (version.get("deprecation") or {}).get("inference")
    replacement = version.get("replacementConfig") or {}
    successor = " ".join(str(replacement[k]) for k in ("targetModelName", "targetModelVersion")
                         if replacement.get(k))
    return [("Lifecycle", version.get("lifecycleStatus")),
            ("Context length", tokens_text(context_length(version))
             if context_length(version) else None),
            ("Capabilities", features), ("SKUs", skus),
            ("Retires", when_text(retire) if retire else None), ("Replaced by", successor)]


def _catalog_model(model: CatalogModel) -> list[RenderableType]:
    params = None if model.parameter_count is None else f"{model.parameter_count / 1e9:.2f} B"
    restricted = ("yes: gated, deploy it with a ModelSource whose credential has access"
                  if model.restricted else "no")
    parts = section(f"Base model: {model.model_id}", [
        ("Catalog", "AI manager (a ModelDeployment deploys it)"),
        ("Description", model.description), ("License", model.license),
        ("Restricted", restricted), ("Context length", tokens_text(model.context_length)),
        ("Parameters", params), ("Weights", size_text(model.size_bytes)),
        ("Resource id", model.resource_id),
    ])
    return parts + commands("Next steps:", [
        f"aimodels cost {model.model_id}          # price it on every GPU size",
        f"aimodels deployments list --model {model.model_id}",
        f"# a ModelDeployment manifest: spec.model.catalog: {model.model_id}",
    ])


def _custom_model(model: CustomModel) -> list[RenderableType]:
    managed = f" (managed by this state as {model.managed_by})" if model.managed_by else ""
    parts: list[RenderableType] = [Text(f"Custom model: {model.name}{managed}", style="bold"),
                                   Text("")]
    for index, version in enumerate(model.versions):
        marks = ["latest"] if index == 0 else []
        marks += ["registered by aimodels"] if version.get("managed") else []
        shown = f" ({', '.join(marks)})" if marks else ""
        parts += section(f"Version {version.get('version')}{shown}", _version_fields(version))
    return parts + commands("Next steps:", [
        f"aimodels deployments list --model {model.name}",
        f"# a ModelDeployment manifest: spec.model.custom: {model.name}",
    ])


def _version_fields(version: Mapping[str, Any]) -> Fields:
    sha = version.get("sha256")
    tags = ", ".join(f"{k}={v}" for k, v in sorted((version.get("tags") or {}).items()))
    return [("Format", version.get("format")), ("Status", version.get("status")),
            ("Size", size_text(version.get("sizeBytes"))),
            ("sha256", f"{sha[:12]}…" if sha else None), ("Path", version.get("path")),
            ("Files", version.get("fileCount")), ("Created", when_text(version.get("createdAt"))),
            ("Description", version.get("description")), ("Tags", tags)]


def render_deployment(row: DeploymentRow, *, color: bool = False,
                      width: int | None = None) -> str:
    """``deployments show``: status, endpoint and the kind's own settings."""
    managed = f" (managed by this state as {row.managed_by})" if row.managed_by else \
        " (not managed by this state)"
    fields = _model_deployment(row) if row.kind == MODEL_DEPLOYMENT else _foundry(row)
    parts = section(f"{row.kind}: {row.name}{managed}", fields)
    tries = [f"aimodels chat {row.qualified} 'Hello!'"]
    if row.kind == MODEL_DEPLOYMENT:
        tries.append(f"aimodels access {row.namespace} --ai-manager {row.ai_manager}"
                     "   # endpoint and keys")
    return to_text(parts + commands("Try it:", tries), color=color, width=width)


def _model_deployment(row: DeploymentRow) -> Fields:
    d = row.details
    error = d.get("provisioningError") or {}
    engine = " ".join(str(d[k]) for k in ("engine", "engineVersion") if d.get(k))
    return [
        ("Model", row.model), ("Model type", row.model_type.capitalize()),
        ("AI manager", row.ai_manager), ("Namespace", row.namespace),
        ("State", row.state or NONE), ("Endpoint", row.endpoint or "(not serving yet)"),
        ("VM size", row.sku), ("Replicas", f"{scale_text(row)} ready/desired"),
        ("Performance mode", d.get("performanceMode")), ("Engine", engine),
        ("Quantization", d.get("quantization")),
        ("Max model length", tokens_text(d["maxModelLen"]) if d.get("maxModelLen") else None),
        ("Peak tokens/min", d.get("peakTokensPerMinute")),
        ("Overrides", ", ".join(f"{k}={v}" for k, v in sorted(d.get("overrides", {}).items()))),
        ("Error", f"{error.get('code')}: {error.get('message')}" if error else None),
        ("Created", when_text(row.created_at)), ("Model id", d.get("modelResourceId")),
        ("Model source", d.get("modelSourceResourceId")), ("Resource id", row.resource_id),
    ]


def _foundry(row: DeploymentRow) -> Fields:
    d = row.details
    limits = ", ".join(f"{r.get('count')} {r.get('key')} / {r.get('renewalPeriod')} s"
                       for r in d.get("rateLimits") or [])
    return [
        ("Model", f"{model_text(row)} ({d.get('modelFormat')})"),
        ("Model type", row.model_type.capitalize()), ("Account", row.account),
        ("State", row.state or NONE), ("Endpoint", row.endpoint or NONE),
        ("Auth", "Entra ID token, or api-key header (listKeys)"
         + ("; keys disabled" if d.get("localAuthDisabled") else "")),
        ("api-version", f"{INFERENCE_API_VERSION} (aimodels chat --api-version)"),
        ("SKU", row.sku), ("Capacity", scale_text(row)),
        ("RAI policy", d.get("raiPolicyName")), ("Upgrades", d.get("versionUpgradeOption")),
        ("Rate limits", limits), ("Created", when_text(row.created_at)),
        ("Resource id", row.resource_id),
    ]


def render_upload(upload: Upload, *, color: bool = False, width: int | None = None) -> str:
    """``uploads show``: the upload folder, whether a model uses it, and each blob."""
    registered = ", ".join(upload.registered_as) if upload.registered_as else \
        "no (orphaned): `aimodels uploads prune` deletes it"
    parts = section(f"Upload: {upload.path}", [
        ("Upload id", upload.upload_id), ("Folder", upload.prefix),
        ("Files", len(upload.blobs)), ("Size", size_text(upload.size_bytes)),
        ("Uploaded", when_text(upload.uploaded_at)), ("Registered as", registered),
    ])
    grid = Table(box=None, pad_edge=False, padding=(0, 2), header_style="bold")
    for header in ("  BLOB", "SIZE", "WRITTEN", "SHA256"):
        grid.add_column(header, overflow="fold")
    for blob in upload.blobs:
        sha = blob.metadata.get("sha256") or NONE
        grid.add_row(Text(f"  {blob.name[len(upload.prefix):] or blob.name}"),
                     Text(size_text(blob.size)), Text(when_text(blob.last_modified)),
                     Text(sha))
    return to_text([*parts, Text("Blobs:", style="bold"), grid], color=color, width=width)


def render_access(info: AccessInfo, *, show_keys: bool, color: bool = False,
                  width: int | None = None) -> str:
    """``access``: endpoint, keys (masked unless ``show_keys``) and ready-to-paste examples."""
    primary, secondary = info.key_text(show_keys)
    note = None if show_keys else "masked; --show-keys prints them in full"
    parts = section(f"Namespace {info.namespace} of AI manager {info.ai_manager}", [
        ("Endpoint", info.endpoint), ("Primary key", primary), ("Secondary key", secondary),
        ("Keys", note), ("Last rotated", when_text(info.last_rotated_at)),
        ("Serving", ", ".join(info.deployments) or "no deployment has finished provisioning"),
    ])
    export = (f"export {KEY_VARIABLE}={primary}" if show_keys else
              f"export {KEY_VARIABLE}=$(aimodels access {info.namespace} --ai-manager "
              f"{info.ai_manager} --show-keys -o json | jq -r .primaryKey)")
    lines = [export, *info.curl_example().splitlines(), "", info.chat_example()]
    if info.ephemeral:
        lines = [info.chat_example(), "", *ephemeral_note(info.namespace)]
    return to_text(parts + commands("Try it:", lines), color=color, width=width)


def ephemeral_note(namespace: str) -> list[str]:
    """What to do on the embedded emulator, whose endpoint dies with the command that printed
    it: serve the same data for as long as you like, and ask through that server."""
    return [
        "# target: local serves this endpoint only while an aimodels command runs. For curl,",
        "# keep the emulator up on the same data, then ask again through it:",
        "aimodels emulator serve --data .aimodels/emulator --port 8080 &",
        f"AIMODELS_ENDPOINT=http://127.0.0.1:8080 aimodels access {namespace} --show-keys",
    ]


def chat_usage(answer: ChatAnswer) -> str:
    """One line: who answered, the tokens and the latency (for stderr, after the answer)."""
    return (f"{answer.kind}/{answer.deployment} ({answer.model}): "
            f"{answer.prompt_tokens} prompt + {answer.completion_tokens} completion = "
            f"{answer.total_tokens} tokens, {answer.latency_seconds * 1000:.0f} ms, "
            f"finish_reason {answer.finish_reason or NONE}, auth: {answer.auth or NONE}")
