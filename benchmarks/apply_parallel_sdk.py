"""The baseline of ``apply_parallel.py``: deployments created one at a time with the official
Azure SDK machinery, the way a script without aimodels would.

- FoundryDeployment: ``azure-mgmt-cognitiveservices``
  (``client.deployments.begin_create_or_update(rg, account, name, Deployment(...)).result()``).
- ModelDeployment (Microsoft.ContainerService aiManagers): there is no official Python SDK, so
  azure-core's generic ARM machinery that generated SDKs are built on: ``ARMPipelineClient``
  (the same policies as a generated client) sends the PUT and ``LROPoller(ARMPolling)``
  follows the operation (Azure-AsyncOperation, then a final GET).

Against the emulator over http, the bearer token goes through an ``authentication_policy`` of
our own (ARM's challenge policy refuses non-TLS URLs; azure-contracts.md section 2.1); the
emulator's ``Retry-After-Ms`` makes the pollers poll every 50 ms, as aimodels does.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.pipeline import policies
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.polling import LROPoller
from azure.core.rest import HttpRequest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import (
    Deployment,
    DeploymentModel,
    DeploymentProperties,
    Sku,
)
from azure.mgmt.core import ARMPipelineClient
from azure.mgmt.core.policies import ARMHttpLoggingPolicy
from azure.mgmt.core.polling.arm_polling import ARMPolling

CS_API_VERSION = "2026-08-02-preview"


class _Bearer(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Sends a fixed bearer token (the emulator accepts any)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def on_request(self, request: Any) -> None:
        request.http_request.headers["Authorization"] = f"Bearer {self.token}"


class _FixedCredential:
    """The management client requires a credential; the bearer policy makes it unused."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


class SdkLoop:
    """One client per API family against ``url``, in ``subscription`` / ``resource_group``."""

    def __init__(self, url: str, token: str, subscription: str, resource_group: str) -> None:
        self.subscription, self.resource_group = subscription, resource_group
        self.foundry = CognitiveServicesManagementClient(
            _FixedCredential(token), subscription, base_url=url,
            authentication_policy=_Bearer(token))
        self.arm = ARMPipelineClient(base_url=url, policies=[
            policies.RequestIdPolicy(), policies.HeadersPolicy(), policies.UserAgentPolicy(),
            policies.ContentDecodePolicy(), policies.RedirectPolicy(), policies.RetryPolicy(),
            _Bearer(token), policies.CustomHookPolicy(), policies.NetworkTraceLoggingPolicy(),
            ARMHttpLoggingPolicy()])

    def create_foundry(self, account: str, name: str, model: tuple[str, ...],
                       rai_policy: str) -> str:
        """Create a GlobalStandard deployment of capacity 1; its final provisioningState."""
        fmt, model_name, version = model
        body = Deployment(sku=Sku(name="GlobalStandard", capacity=1),
                          properties=DeploymentProperties(
                              model=DeploymentModel(format=fmt, name=model_name,
                                                    version=version),
                              rai_policy_name=rai_policy))
        poller = self.foundry.deployments.begin_create_or_update(
            self.resource_group, account, name, body)
        return str(poller.result().properties.provisioning_state)

    def create_model_deployment(self, manager: str, namespace: str, name: str,
                                model_id: str, vm_size: str) -> str:
        """PUT one replica of ``model_id`` on ``vm_size`` and follow the LRO; the final
        provisioningState."""
        path = (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/"
                f"providers/Microsoft.ContainerService/aiManagers/{manager}/namespaces/"
                f"{namespace}/modelDeployments/{name}")
        body = {"properties": {"modelResourceId": model_id, "vmSize": vm_size,
                               "performanceMode": "Balanced",
                               "scale": {"manual": {"replicas": 1}}}}
        request = HttpRequest("PUT", self.arm.format_url(path),
                              params={"api-version": CS_API_VERSION}, json=body)
        first = self.arm.send_request(request, _return_pipeline_response=True)
        if first.http_response.status_code not in (200, 201):
            raise SystemExit(f"SDK PUT {name}: {first.http_response.status_code} "
                             f"{first.http_response.text()}")
        poller = LROPoller(self.arm, first, lambda response: response.http_response.json(),
                           ARMPolling(lro_options={"final-state-via": "azure-async-operation"}))
        return str(poller.result()["properties"]["provisioningState"])

    def catalog_ids(self, location: str) -> dict[str, str]:
        """modelId -> AIModel resource id, from the catalog (a script looks them up once)."""
        path = (f"/subscriptions/{self.subscription}/providers/Microsoft.ContainerService/"
                f"locations/{location}/aiModels")
        ids: dict[str, str] = {}
        request: HttpRequest | None = HttpRequest("GET", self.arm.format_url(path),
                                                  params={"api-version": CS_API_VERSION})
        while request is not None:
            page = self.arm.send_request(request)
            page.raise_for_status()
            body = page.json()
            ids.update({m["properties"]["modelId"]: m["id"] for m in body["value"]})
            request = HttpRequest("GET", body["nextLink"]) if body.get("nextLink") else None
        return ids
