"""Routes of the read-only AIModel catalog and its calculateCost action.

The TypeSpec puts AIModel under a subscription location (``locations/{location}/aiModels``);
aimodels reads it under a resource group (``resourceGroups/{rg}/.../aiModels``). Both are served:
the resource-group form takes its region from the resource group. Names are the 16-hex-digit
hash of the modelId; the modelId itself (``microsoft%2FPhi-4``) is accepted too.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aimodels.emulator.containerservice import arm, sizing
from aimodels.emulator.http import json_response

AI_MODEL_TYPE = f"{arm.PROVIDER}/aiModels"


def ai_model_resource(model: sizing.CatalogModel, scope_path: str) -> dict[str, Any]:
    """The AIModel resource as ARM returns it, under ``scope_path`` (a location or a group)."""
    return {
        "id": f"{scope_path}/aiModels/{model.name}",
        "name": model.name,
        "type": AI_MODEL_TYPE,
        "properties": {
            "modelId": model.model_id,
            "description": model.description,
            "spec": {"license": model.license, "isRestricted": model.is_restricted,
                     "maxContextLength": model.max_context_length},
            "parameterCount": model.parameter_count,
            "sizeBytes": model.size_bytes,
        },
    }


def location_scope(emu: Any, request: Request) -> tuple[str, str]:
    """(scope path, region) of a location-scoped request; 404/400 for unknown ones."""
    sub = request.path_params["sub"]
    arm.subscription(emu, sub)
    location = sizing.normalize_location(request.path_params["location"])
    known = sizing.regions(emu.fixtures)
    if location not in known:
        raise arm.bad_request("LocationNotAvailableForResourceType",
                              f"The provided location '{request.path_params['location']}' is not "
                              f"available for resource type '{AI_MODEL_TYPE}'. List of available "
                              f"regions for the resource type is '{','.join(known)}'.")
    return f"/subscriptions/{sub}/providers/{arm.PROVIDER}/locations/{location}", location


def group_scope(emu: Any, request: Request) -> tuple[str, str]:
    """(scope path, region) of a resource-group-scoped request (the paths aimodels reads)."""
    sub, rg = request.path_params["sub"], request.path_params["rg"]
    group = arm.resource_group(emu, sub, rg)
    return arm.rg_path(sub, group.rg), group.location


def catalog_model(emu: Any, name: str, scope_path: str) -> sizing.CatalogModel:
    """The catalog model called ``name``, or 404 ResourceNotFound."""
    model = sizing.find_model(emu.fixtures, name)
    if model is None:
        raise arm.ArmFailure(404, "ResourceNotFound",
                             f"The AI model '{name}' was not found in the catalog at "
                             f"'{scope_path}'.")
    return model


def replicas_of(body: dict[str, Any]) -> int:
    """calculateCost's ``replicas`` (default 1), or 400 InvalidParameter."""
    replicas = body.get("replicas", 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise arm.bad_request("InvalidParameter",
                              f"Invalid value for 'replicas': {replicas!r}; use an integer >= 1.")
    return replicas


def scope_of(emu: Any, request: Request) -> tuple[str, str]:
    """(scope path, region) of either form of catalog path."""
    if "location" in request.path_params:
        return location_scope(emu, request)
    return group_scope(emu, request)


async def list_models(emu: Any, request: Request) -> Response:
    scope_path, _ = scope_of(emu, request)
    models = sizing.catalog(emu.fixtures)
    return arm.page(request, [ai_model_resource(m, scope_path) for m in models])


async def get_model(emu: Any, request: Request) -> Response:
    scope_path, _ = scope_of(emu, request)
    model = catalog_model(emu, request.path_params["name"], scope_path)
    return json_response(ai_model_resource(model, scope_path))


async def calculate_cost(emu: Any, request: Request) -> Response:
    """Ranked plans for ``replicas`` replicas of the model in the scope's region."""
    scope_path, location = scope_of(emu, request)
    model = catalog_model(emu, request.path_params["name"], scope_path)
    replicas = replicas_of(await arm.body_of(request))
    plans = sizing.cost_plans(emu, model, request.path_params["sub"], location, replicas)
    return json_response({"replicas": replicas, "currency": "USD", "location": location,
                          "plans": plans})


def routes(emu: Any) -> list[Route]:
    """Catalog list/get and calculateCost, at both the location and the resource-group scope."""
    table = []
    for prefix in (arm.SUB_PREFIX + "/locations/{location}", arm.RG_PREFIX):
        table += [
            (prefix + "/aiModels", "GET", list_models),
            (prefix + "/aiModels/{name:path}/calculateCost", "POST", calculate_cost),
            (prefix + "/aiModels/{name:path}", "GET", get_model),
        ]
    return arm.routes_of(emu, table)
