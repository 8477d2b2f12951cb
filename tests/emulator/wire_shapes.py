"""Check a JSON body against the 2025-09-01 models of azure-mgmt-cognitiveservices.

The SDK's models (msrest-style ``_attribute_map``: wire key and type per attribute) were
generated from the 2025-09-01 spec, so they are the spec's definitions in a form Python can
read. ``problems`` walks a body against one model and names every key the model does not
declare and every value of the wrong JSON type (``str``, ``int``, ``float``, ``bool``,
``iso-8601``, ``[T]``, ``{T}``, nested models); ``null`` is accepted anywhere, as Azure sends
it for unset read-only fields. Then the SDK's own ``deserialize`` must accept the body too.
Enums are typed ``str`` in these models, so a few are checked by name (``ENUMS``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import azure.mgmt.cognitiveservices.models as sdk

#: Wire fields whose values the SDK types as ``str`` but the spec limits to an enum.
ENUMS: dict[tuple[str, str], type] = {
    ("DeploymentProperties", "provisioningState"): sdk.DeploymentProvisioningState,
    ("DeploymentProperties", "versionUpgradeOption"): sdk.DeploymentModelVersionUpgradeOption,
    ("Usage", "unit"): sdk.UnitType,
}


def problems(model: str, body: Any, where: str = "$") -> list[str]:
    """What in ``body`` the SDK model ``model`` does not declare or types otherwise."""
    found = _model(model, body, where)
    if not found:
        getattr(sdk, model).deserialize(body)  # the SDK must read it as well
    return found


def _model(name: str, body: Any, where: str) -> list[str]:
    if not isinstance(body, dict):
        return [f"{where}: {name} must be an object, got {type(body).__name__}"]
    attributes = {a["key"]: a["type"] for a in getattr(sdk, name)._attribute_map.values()}
    out = []
    for key, value in body.items():
        if key not in attributes:
            out.append(f"{where}.{key}: not in {name}")
            continue
        out += _value(attributes[key], value, f"{where}.{key}")
        enum = ENUMS.get((name, key))
        if enum is not None and value is not None and value not in {e.value for e in enum}:
            out.append(f"{where}.{key}: {value!r} is not a {enum.__name__}")
    return out


def _value(kind: str, value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if kind.startswith("[") and kind.endswith("]"):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [p for i, item in enumerate(value)
                for p in _value(kind[1:-1], item, f"{where}[{i}]")]
    if kind.startswith("{") and kind.endswith("}"):
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        return [p for k, item in value.items() for p in _value(kind[1:-1], item, f"{where}.{k}")]
    checks = {
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "iso-8601": _is_timestamp,
        "object": lambda v: True,
    }
    if kind in checks:
        return [] if checks[kind](value) else [f"{where}: {value!r} is not {kind}"]
    return _model(kind, value, where)


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
