"""The Foundry (Azure OpenAI) catalog as base models of ``models list`` and ``models show``.

The Cognitive Services location models (``locations/{loc}/models``, one item per model
version: gpt-4o, o3-mini, Llama-3.3-70B-Instruct...) are what a FoundryDeployment deploys, as
``spec.model: {format, name, version}``. They sit beside the AI manager's AIModel catalog
(what a ModelDeployment deploys): one row per model, its default version shown, every version
in ``models show``. Pure functions over the wire items; reading is ``FoundryReader``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aimodels.plan.preflight_catalog import unwrap_model

#: The catalog field of a row: which deployment kind takes the model.
AI_MANAGER_CATALOG = "aiManager"
FOUNDRY_CATALOG = "foundry"


@dataclass(frozen=True, slots=True)
class FoundryModel:
    """``models show`` of a Foundry catalog model: every version offered in ``location``,
    the default one first, each as the wire gives it (``model`` of a location-models item)."""

    name: str
    format: str
    location: str
    versions: tuple[Mapping[str, Any], ...]

    @property
    def default_version(self) -> str | None:
        return str(self.versions[0].get("version")) if self.versions else None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "base", "catalog": FOUNDRY_CATALOG, "name": self.name,
                "format": self.format, "location": self.location,
                "defaultVersion": self.default_version,
                "versions": [public_version(v) for v in self.versions]}


def foundry_models(items: Sequence[Mapping[str, Any]], location: str) -> list[FoundryModel]:
    """Location-models items grouped per (format, name), sorted by name; each model's versions
    default first, then newest first."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for item in items:
        model = unwrap_model(item)
        key = (str(model.get("format") or ""), str(model.get("name") or ""))
        groups.setdefault(key, []).append(model)
    found = [FoundryModel(name, fmt, location, tuple(_ordered(versions)))
             for (fmt, name), versions in groups.items() if name]
    return sorted(found, key=lambda m: (m.name.lower(), m.format.lower()))


def foundry_match(models: Sequence[FoundryModel], name: str) -> FoundryModel | None:
    """The model ``name`` means: its name, or ``FORMAT/NAME`` (as ``availability`` takes it),
    compared case-insensitively; None when none or several match."""
    wanted_format, _, wanted = name.lower().rpartition("/")
    found = [m for m in models if m.name.lower() == wanted
             and (not wanted_format or m.format.lower() == wanted_format)]
    return found[0] if len(found) == 1 else None


def context_length(version: Mapping[str, Any]) -> int | None:
    """``capabilities.maxContextToken`` (a string on the wire), or None."""
    value = (version.get("capabilities") or {}).get("maxContextToken")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def public_version(version: Mapping[str, Any]) -> dict[str, Any]:
    """A version as ``models show`` JSON gives it: the catalog's own fields."""
    keep = ("version", "isDefaultVersion", "lifecycleStatus", "capabilities", "deprecation",
            "replacementConfig", "maxCapacity", "modelCatalogAssetId")
    out = {k: version.get(k) for k in keep}
    out["skus"] = [{"name": s.get("name"), "usageName": s.get("usageName"),
                    "capacity": s.get("capacity"), "deprecationDate": s.get("deprecationDate")}
                   for s in version.get("skus") or ()]
    return out


def _ordered(versions: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    newest = sorted(versions, key=lambda v: str(v.get("version")), reverse=True)
    return sorted(newest, key=lambda v: not v.get("isDefaultVersion"))
