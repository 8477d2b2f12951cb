"""The REST paths the read commands ask (``models``, ``deployments``, ``uploads``, ``access``,
``chat``, ``export``): where an AI manager, a namespace, a Foundry account, the region's
AIModel catalog and the custom-model registry are, and the collections and actions below them.

A parent's path comes from the Stack (its subscription, resource group and region); a child's
from its parent's path, so a caller that knows a parent's path (a ``ReadScope``) goes on from
there.
"""

from __future__ import annotations

from aimodels.model.arm import arm_id
from aimodels.model.desired import Stack
from aimodels.providers.custommodel import COLLECTION

CONTAINER_SERVICE = "Microsoft.ContainerService"
COGNITIVE_SERVICES = "Microsoft.CognitiveServices"
#: The custom-model registry's collection (docs/emulator.md); not ARM, no api-version.
CUSTOM_MODELS = COLLECTION.url
#: The registry's action answering a read-only SAS for the data store (``uploads``).
DATASTORE_SAS = "/datastore/list-sas"


def manager_path(stack: Stack, ai_manager: str) -> str:
    """An AI manager of the Stack's resource group."""
    return arm_id(stack, CONTAINER_SERVICE, "aiManagers", ai_manager)


def account_path(stack: Stack, account: str) -> str:
    """A Foundry (Cognitive Services) account of the Stack's resource group."""
    return arm_id(stack, COGNITIVE_SERVICES, "accounts", account)


def catalog_path(stack: Stack) -> str:
    """The AIModel catalog of the Stack's region (the TypeSpec's location scope)."""
    return (f"/subscriptions/{stack.subscription_id}/providers/{CONTAINER_SERVICE}"
            f"/locations/{stack.location}/aiModels")


def namespaces(manager: str) -> str:
    """The namespaces of the AI manager at ``manager``."""
    return f"{manager}/namespaces"


def namespace_path(manager: str, namespace: str) -> str:
    return f"{namespaces(manager)}/{namespace}"


def model_deployments(namespace: str) -> str:
    """The ModelDeployments of the namespace at ``namespace``."""
    return f"{namespace}/modelDeployments"


def model_sources(manager: str) -> str:
    """The ModelSources of the AI manager at ``manager``."""
    return f"{manager}/modelSources"


def access_info(namespace: str) -> str:
    """The namespace's endpoint and keys (POST ``listAccessInfo``)."""
    return f"{namespace}/listAccessInfo"


def account_deployments(account: str) -> str:
    """The deployments of the Foundry account at ``account``."""
    return f"{account}/deployments"


def account_keys(account: str) -> str:
    """The Foundry account's keys (POST ``listKeys``)."""
    return f"{account}/listKeys"
