"""What the emulator checks before accepting a deployment write, with the codes Azure answers:
the model version must be offered in the account's region (``DeploymentModelNotSupported``,
also for a new deployment of a ``Deprecating`` version nobody in the subscription runs), the
SKU too (``InvalidResourceProperties``), the capacity within the SKU's range (``InvalidCapacity``),
and the quota pool must have room (``InsufficientQuota``) and not need a feature the subscription
lacks (``SpecialFeatureOrQuotaIdRequired``). One write at a time per account (``RequestConflict``).
A model whose ``source`` is a registry path is a registered custom model instead of a catalog
one (``custom_models``: ``CustomModelNotFound``, ``CustomModelNotReady``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from aimodels.emulator import custom_models, lro
from aimodels.emulator.cognitiveservices.catalog import pool, skus_in, usage_name, visible_models
from aimodels.emulator.cognitiveservices.common import DEPLOYMENTS
from aimodels.emulator.http import arm_error, json_object

UPGRADE_OPTIONS = ("OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired", "NoAutoUpgrade")
#: What a deployment created without a raiPolicyName carries. Existing deployments commonly
#: show ``Microsoft.Default`` (azure-contracts.md, corrections): a value a client that assumes
#: ``Microsoft.DefaultV2`` would wrongly diff against, which is the point.
DEFAULT_RAI_POLICY = "Microsoft.Default"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Desired:
    """A deployment as a PUT body asks for it (version None: the region's default version;
    ``model_source`` is ``properties.model.source``, a registry path for a custom model)."""

    sku_name: str
    capacity: Any
    model_format: str
    model_name: str
    model_version: str | None
    rai_policy: str
    upgrade_option: str
    tags: dict[str, str] | None
    model_source: str | None = None


def parse_put(body: dict[str, Any]) -> Desired | Response:
    """The PUT body as a Desired, or the 400 Azure gives for a missing sku or model."""
    sku, props = json_object(body.get("sku")), json_object(body.get("properties"))
    model = json_object(props.get("model"))
    if not sku.get("name"):
        return _invalid("The sku of account deployment is required.")
    if not model.get("format") or not model.get("name"):
        return _invalid("The model format and name of account deployment are required.")
    upgrade = props.get("versionUpgradeOption") or UPGRADE_OPTIONS[0]
    if upgrade not in UPGRADE_OPTIONS:
        return _invalid(f"The versionUpgradeOption '{upgrade}' is not valid; use one of "
                        f"{', '.join(UPGRADE_OPTIONS)}.")
    return Desired(str(sku["name"]), sku.get("capacity"), str(model["format"]), str(model["name"]),
                   str(model["version"]) if model.get("version") else None,
                   str(props.get("raiPolicyName") or DEFAULT_RAI_POLICY), upgrade,
                   body.get("tags") if isinstance(body.get("tags"), dict) else None,
                   str(model["source"]) if model.get("source") else None)


#: A model entry, or the error answer that says why there is none.
Found = dict[str, Any] | Response


def check_name(name: str) -> Response | None:
    if _NAME.match(name):
        return None
    return arm_error(400, "InvalidResourceName",
                     f"The deployment name '{name}' is invalid: use 1 to 64 letters, digits, '_', "
                     "'.' or '-', starting with a letter or digit.")


def resolve_model(emu: Any, location: str, desired: Desired) -> Found:
    """The catalog entry (or registered custom model) the deployment would run in ``location``,
    or the 400 Azure gives."""
    if custom_models.is_registry_path(desired.model_source):
        return _custom_entry(emu, location, desired)
    fmt, name, version = desired.model_format, desired.model_name, desired.model_version
    same = [m for m in visible_models(emu) if m["format"].lower() == fmt.lower()
            and m["name"].lower() == name.lower() and skus_in(m, location)]
    if version is None:
        entry: dict[str, Any] | None = next((m for m in same if m.get("isDefaultVersion")),
                                            same[0] if same else None)
    else:
        entry = next((m for m in same if m["version"].lower() == version.lower()), None)
    if entry is None:
        ref = f"Format:{fmt},Name:{name},Version:{version or ''}"
        return arm_error(400, "DeploymentModelNotSupported",
                         f"The model '{ref}' of account deployment is not supported.")
    if entry.get("lifecycleStatus") == "Deprecated":
        return arm_error(400, "DeploymentModelNotSupported",
                         "Creating account deployment is not supported by the model "
                         f"'{entry['name']}'. This is usually because there are better "
                         "models available for the similar functionality.")
    return entry


def _custom_entry(emu: Any, location: str, desired: Desired) -> Found:
    """A registered custom model as a model entry: ``source`` names it, ``name`` agrees,
    ``version`` picks the registration (the newest when left out) and ``format`` is its own."""
    try:
        name, pinned = custom_models.parse_registry_path(str(desired.model_source))
        version = desired.model_version or pinned
        if pinned and version and pinned.lower() != version.lower():
            return _invalid(f"The model version '{version}' and the version in the "
                            f"source '{desired.model_source}' differ.")
        if name.lower() != desired.model_name.lower():
            return _invalid(f"The model name '{desired.model_name}' and the custom model "
                            f"'{name}' of the source '{desired.model_source}' differ.")
        doc = custom_models.registered_model(emu, name, version)
    except custom_models.CustomModelError as exc:
        return arm_error(400, exc.code, exc.message)
    if str(doc["format"]).lower() != desired.model_format.lower():
        return _invalid(f"The model format '{desired.model_format}' is not the format of "
                        f"custom model '{doc['name']}' version '{doc['version']}': it is "
                        f"registered as '{doc['format']}'.")
    return custom_models.foundry_entry(doc, location)


def check_deprecating(emu: Any, sub: str, entry: dict[str, Any],
                      existing: dict[str, Any] | None, now: float) -> Response | None:
    """400 for a new deployment of a ``Deprecating`` version in a subscription running none:
    Azure keeps such versions for the customers that already deploy them. (The code is the
    one Azure gives deprecated models; the wording is ours.)"""
    if entry.get("lifecycleStatus") != "Deprecating" or existing:
        return None  # a deployment that exists may move to it in place, as it may keep it
    ref = tuple(str(entry[k]).lower() for k in ("format", "name", "version"))
    running = any(_model_ref(d) == ref and not lro.is_gone(d, now)
                  for d in emu.store.list(DEPLOYMENTS, sub.lower() + "/"))
    if running:
        return None
    return arm_error(400, "DeploymentModelNotSupported",
                     f"Creating account deployment of the model '{entry['name']}' version "
                     f"'{entry['version']}' is not supported: the version is deprecating and "
                     "only subscriptions that already have deployments of it can create more.")


def _model_ref(doc: dict[str, Any]) -> tuple[str, ...]:
    model = doc.get("properties", {}).get("model", {})
    return tuple(str(model.get(k, "")).lower() for k in ("format", "name", "version"))


def check_sku(entry: dict[str, Any], location: str, sku_name: str,
              capacity: Any) -> int | Response:
    """The capacity to deploy (the SKU's default when omitted), or the 400 for a bad one."""
    skus = skus_in(entry, location)
    if sku_name not in skus:
        return _invalid(f"The specified SKU '{sku_name}' of account deployment is not "
                        f"supported by the model '{entry['name']}' version: "
                        f"'{entry['version']}'.")
    bounds = skus[sku_name]["capacity"]
    # Real catalogs leave out minimum and step (Standard, GlobalStandard) or default (Global
    # and DataZone provisioned): 1, 1 and the minimum then.
    low, high = bounds.get("minimum", 1), bounds["maximum"]
    capacity = bounds.get("default", low) if capacity is None else capacity
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not low <= capacity <= high:
        return arm_error(400, "InvalidCapacity",
                         f"The specified capacity '{capacity}' of account deployment should "
                         f"be at least {low} and no more than {high}.")
    if capacity % bounds.get("step", 1):
        return arm_error(400, "InvalidCapacity",
                         f"The specified capacity '{capacity}' of account deployment should "
                         f"be a multiple of {bounds['step']}.")
    return capacity


def check_quota(emu: Any, sub: str, location: str, entry: dict[str, Any], sku_name: str,
                capacity: int, existing: dict[str, Any] | None, now: float) -> Response | None:
    """400 when the pool cannot hold ``capacity`` (what ``existing`` holds there counts)."""
    name = usage_name(entry, sku_name)
    found = pool(emu, sub, location, name, now)
    if found.feature:
        return arm_error(400, "SpecialFeatureOrQuotaIdRequired",
                         "The subscription does not have QuotaId/Feature required by SKU "
                         f"'{sku_name}' from kind 'AIServices' or contains blocked "
                         f"QuotaId/Feature. Quota '{name}' needs the feature '{found.feature}'.")
    held = 0
    if existing and existing.get("_usageName") == name and not lro.is_gone(existing, now):
        held = int(existing["sku"].get("capacity", 0))
    needed = capacity - held
    if needed <= 0 or needed <= found.available:
        return None
    quota = f"{found.label} ({name})"
    return arm_error(400, "InsufficientQuota",
                     f"This operation require {needed} new capacity in quota {quota}, which is "
                     f"bigger than the current available capacity {found.available}. The current "
                     f"quota usage is {found.current} and the quota limit is {found.limit} for "
                     f"quota {quota}.")


def check_account_idle(emu: Any, account: dict[str, Any], account_key: str,
                       now: float) -> Response | None:
    """409 RequestConflict while an operation runs on any deployment of the account."""
    if not any(lro.is_busy(d, now) for d in emu.store.list(DEPLOYMENTS, account_key + "/")):
        return None
    return arm_error(409, "RequestConflict",
                     "Another operation is being performed on the parent resource "
                     f"'{account['id']}'. Please try again later.")


def _invalid(message: str) -> Response:
    return arm_error(400, "InvalidResourceProperties", message)
