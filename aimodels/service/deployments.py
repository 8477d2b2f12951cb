"""``deployments list`` and ``deployments show``: ModelDeployments (every namespace of the AI
managers in scope) and FoundryDeployments (every account in scope), as one view.

One LIST per parent collection, all in parallel: each AI manager's namespaces, then each
namespace's deployments; each account, and its deployments. A parent that does not exist is a
warning, not a failure, so one stale name in a manifest does not hide everything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aimodels.errors import AimodelsError, Diagnostic, UsageError
from aimodels.live import paths
from aimodels.model.arm import arm_parents
from aimodels.model.kinds import FOUNDRY_DEPLOYMENT, MODEL_DEPLOYMENT
from aimodels.providers.custommodel import parse_registry_path
from aimodels.service.catalog import catalog_names
from aimodels.service.reading import ReadScope, ReadTarget, list_or_empty, run_read
from aimodels.transport.client import AzureClient
from aimodels.transport.errors import NotFoundError

LIST_HINT = "see `aimodels deployments list`"
ModelType = Literal["base", "custom"]


def model_type_of(reference: Any) -> ModelType:
    """Whether a deployment's model reference names a custom model (seeds 000/001) or a base
    (catalog) one. The one place that classifies the wire form of a reference: a
    ModelDeployment's ``modelResourceId`` that is a registry path
    (``custom-models/{name}[/versions/{version}]``), or a FoundryDeployment's
    ``properties.model`` whose ``source`` is one (or whose format is ``Custom``)."""
    if isinstance(reference, str):
        return "custom" if parse_registry_path(reference) is not None else "base"
    if isinstance(reference, Mapping):
        custom = str(reference.get("format") or "").lower() == "custom" or \
            parse_registry_path(str(reference.get("source") or "")) is not None
        return "custom" if custom else "base"
    return "base"


@dataclass(frozen=True, slots=True)
class DeploymentRow:
    """One live deployment of either kind, flattened for tables and JSON.

    ``sku`` is the VM size of a ModelDeployment or the SKU name of a FoundryDeployment;
    ``replicas``/``ready_replicas`` are set for the first, ``capacity`` for the second.
    ``details`` holds the kind-specific rest for ``show`` (engine, rate limits, errors...).
    ``model_type`` says whether the model is a catalog (base) or a custom one.
    """

    name: str
    kind: str
    model: str
    sku: str
    state: str
    endpoint: str
    resource_id: str
    model_type: ModelType = "base"
    ai_manager: str | None = None
    namespace: str | None = None
    account: str | None = None
    model_version: str | None = None
    replicas: int | None = None
    ready_replicas: int | None = None
    autoscale: tuple[int, int | None] | None = None
    capacity: int | None = None
    created_at: str | None = None
    managed_by: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def parent(self) -> str:
        """``aiManager/namespace`` or the account: where the deployment lives."""
        if self.kind == MODEL_DEPLOYMENT:
            return f"{self.ai_manager}/{self.namespace}"
        return str(self.account)

    @property
    def qualified(self) -> str:
        """``parent/name``: a reference that tells same-named deployments apart."""
        return f"{self.parent}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON (camelCase), every key present; kind-specific ones may be null."""
        return {
            "name": self.name, "kind": self.kind, "type": self.model_type, "model": self.model,
            "modelVersion": self.model_version, "sku": self.sku, "state": self.state,
            "endpoint": self.endpoint or None, "aiManager": self.ai_manager,
            "namespace": self.namespace, "account": self.account,
            "replicas": self.replicas, "readyReplicas": self.ready_replicas,
            "autoscale": None if self.autoscale is None else
            {"minReplicas": self.autoscale[0], "maxReplicas": self.autoscale[1]},
            "capacity": self.capacity, "createdAt": self.created_at,
            "resourceId": self.resource_id, "managed": self.managed_by is not None,
            "address": self.managed_by, "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class DeploymentListing:
    """Every deployment found, sorted by kind, parent and name, and the warnings."""

    rows: tuple[DeploymentRow, ...]
    warnings: tuple[Diagnostic, ...] = ()


def list_deployments(target: ReadTarget, model: str | None = None,
                     status: str | None = None,
                     model_type: Literal["base", "custom", "all"] = "all") -> DeploymentListing:
    """Deployments of both kinds, filtered by model (name or modelId, case-insensitive),
    provisioning state (case-insensitive, e.g. ``succeeded``, ``failed``) and model type."""
    scope, listing = run_read(target, read_deployments)
    rows = tuple(r for r in listing.rows if _has_model(r, model) and _has_state(r, status)
                 and model_type in ("all", r.model_type))
    return DeploymentListing(rows, scope.warnings + listing.warnings)


def show_deployment(target: ReadTarget, ref: str
                    ) -> tuple[DeploymentRow, tuple[Diagnostic, ...]]:
    """The one deployment ``ref`` names (see ``find_deployment``), with the warnings."""
    scope, listing = run_read(target, read_deployments)
    return find_deployment(listing.rows, ref, scope), scope.warnings + listing.warnings


async def read_deployments(scope: ReadScope, client: AzureClient) -> DeploymentListing:
    """List every deployment of the AI managers and accounts in scope (in parallel)."""
    names, managed, foundry = await asyncio.gather(
        _catalog_names(client, scope),
        asyncio.gather(*(_manager_deployments(client, scope, m) for m in scope.ai_managers)),
        asyncio.gather(*(_account_deployments(client, scope, a) for a in scope.accounts)),
    )
    rows: list[DeploymentRow] = []
    warnings: list[Diagnostic] = []
    for items, problem in managed:
        rows += [model_deployment_row(i, names, scope) for i in items]
        warnings += problem
    for account, items, problem in foundry:
        rows += [foundry_row(i, account, scope) for i in items]
        warnings += problem
    rows.sort(key=lambda r: (r.kind, r.parent.lower(), r.name.lower()))
    return DeploymentListing(tuple(rows), tuple(warnings))


def find_deployment(rows: Sequence[DeploymentRow], ref: str, scope: ReadScope) -> DeploymentRow:
    """The deployment ``ref`` names: ``name``, or ``X/name`` where X is a kind, an account, a
    namespace or ``aiManager/namespace``. No match is exit 1; several are a usage error."""
    qualifier, _, name = ref.rpartition("/")
    found = [r for r in rows if r.name.lower() == name.lower() and _qualifies(r, qualifier)]
    if not found:
        where = _where(scope)
        raise AimodelsError(f"no deployment named {ref} in {where}; {LIST_HINT}")
    if len(found) > 1:
        choices = ", ".join(f"{r.kind}/{r.name} in {r.parent} ({r.qualified})" for r in found)
        raise UsageError(f"{ref} names {len(found)} deployments: {choices}",
                         hint="Pass one of them as PARENT/NAME, e.g. " + found[0].qualified)
    return found[0]


def model_deployment_row(item: Mapping[str, Any], catalog: Mapping[str, str],
                         scope: ReadScope) -> DeploymentRow:
    """A Microsoft.ContainerService modelDeployment as a row."""
    props = item.get("properties") or {}
    status = props.get("status") or {}
    parents = arm_parents(str(item.get("id", "")))
    scale = props.get("scale") or {}
    auto = scale.get("autoscale")
    manual = (scale.get("manual") or {}).get("replicas")
    return DeploymentRow(
        name=str(item.get("name")), kind=MODEL_DEPLOYMENT,
        model=model_label(str(props.get("modelResourceId") or ""), catalog),
        model_type=model_type_of(str(props.get("modelResourceId") or "")),
        sku=str(props.get("vmSize") or ""), state=str(props.get("provisioningState") or ""),
        endpoint=str(status.get("endpoint") or ""), resource_id=str(item.get("id", "")),
        ai_manager=parents.get("aimanagers"), namespace=parents.get("namespaces"),
        replicas=status.get("desiredReplicas", manual),
        ready_replicas=status.get("currentReplicas"),
        autoscale=(int(auto.get("minReplicas", 1)), auto.get("maxReplicas")) if auto else None,
        created_at=(item.get("systemData") or {}).get("createdAt"),
        managed_by=scope.managed_address(str(item.get("id", ""))),
        details=_model_deployment_details(props, status, item),
    )


def foundry_row(item: Mapping[str, Any], account: Mapping[str, Any],
                scope: ReadScope) -> DeploymentRow:
    """A Microsoft.CognitiveServices account deployment as a row; the endpoint is the
    account's with the Azure OpenAI deployment path."""
    props = item.get("properties") or {}
    model = props.get("model") or {}
    sku = item.get("sku") or {}
    name = str(item.get("name"))
    base = str((account.get("properties") or {}).get("endpoint") or "")
    return DeploymentRow(
        name=name, kind=FOUNDRY_DEPLOYMENT, model=str(model.get("name") or ""),
        model_type=model_type_of(model),
        model_version=model.get("version"), sku=str(sku.get("name") or ""),
        state=str(props.get("provisioningState") or ""),
        endpoint=f"{base.rstrip('/')}/openai/deployments/{name}" if base else "",
        resource_id=str(item.get("id", "")), account=str(account.get("name")),
        capacity=sku.get("capacity"),
        created_at=(item.get("systemData") or {}).get("createdAt"),
        managed_by=scope.managed_address(str(item.get("id", ""))),
        details={"modelFormat": model.get("format"),
                 "raiPolicyName": props.get("raiPolicyName"),
                 "versionUpgradeOption": props.get("versionUpgradeOption"),
                 "rateLimits": props.get("rateLimits") or [],
                 "accountEndpoint": base or None, "etag": item.get("etag"),
                 "localAuthDisabled": bool((account.get("properties") or {})
                                           .get("disableLocalAuth"))},
    )


def model_label(model_resource_id: str, catalog: Mapping[str, str]) -> str:
    """What a modelResourceId means to a person: the catalog modelId, a custom model's name
    (from its registry path, ``custom-models/{name}/versions/{version}``), or the id's last
    segment when the catalog does not know it."""
    custom = parse_registry_path(model_resource_id)
    if custom is not None:
        return custom[0]
    last = model_resource_id.rsplit("/", 1)[-1]
    return catalog.get(last.lower(), last)


def _model_deployment_details(props: Mapping[str, Any], status: Mapping[str, Any],
                              item: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("engine", "engineVersion", "quantization", "maxModelLen", "peakTokensPerMinute",
            "estimatedProvisionTimeSeconds", "provisioningError")
    return {
        "performanceMode": props.get("performanceMode"),
        "modelResourceId": props.get("modelResourceId"),
        "modelSourceResourceId": props.get("modelSourceResourceId"),
        "overrides": (props.get("overrides") or {}).get("values") or {},
        **{k: status[k] for k in keep if k in status},
        "etag": item.get("eTag"),
    }


async def _catalog_names(client: AzureClient, scope: ReadScope) -> dict[str, str]:
    try:
        return catalog_names(await client.list_all(scope.catalog_path()))
    except NotFoundError:
        return {}


async def _manager_deployments(client: AzureClient, scope: ReadScope, manager: str
                               ) -> tuple[list[Any], list[Diagnostic]]:
    try:
        namespaces = await client.list_all(paths.namespaces(scope.manager_path(manager)))
    except NotFoundError:
        return [], [_missing("AI manager", manager, scope)]
    lists = await asyncio.gather(*(
        list_or_empty(client, paths.model_deployments(
            scope.namespace_path(manager, str(ns["name"])))) for ns in namespaces))
    return [item for items in lists for item in items], []


async def _account_deployments(client: AzureClient, scope: ReadScope, account: str
                               ) -> tuple[Mapping[str, Any], list[Any], list[Diagnostic]]:
    path = scope.account_path(account)
    found, items = await asyncio.gather(client.get_json_or_none(path),
                                        list_or_empty(client, paths.account_deployments(path)))
    if found is None:
        return {"name": account}, [], [_missing("Foundry account", account, scope)]
    return found, items, []


def _missing(what: str, name: str, scope: ReadScope) -> Diagnostic:
    return scope.missing_parent(what, name, "its deployments are not listed")


def _qualifies(row: DeploymentRow, qualifier: str) -> bool:
    if not qualifier:
        return True
    wanted = qualifier.lower()
    names = {row.kind, row.parent, row.account or "", row.namespace or ""}
    return wanted in {n.lower() for n in names if n}


def _has_model(row: DeploymentRow, model: str | None) -> bool:
    if not model:
        return True
    wanted = model.lower()
    return wanted in (row.model.lower(), row.model.lower().rsplit("/", 1)[-1])


def _has_state(row: DeploymentRow, status: str | None) -> bool:
    return not status or row.state.lower() == status.lower()


def _where(scope: ReadScope) -> str:
    parts = [f"AI manager {m}" for m in scope.ai_managers]
    parts += [f"account {a}" for a in scope.accounts]
    return ", ".join(parts) if parts else "this Stack (it names no AI manager or account)"
