"""Microsoft.ContainerService aiManagers have no live recordings; the preview spec examples are
the only material besides docs/emulator.md. The
2026-08-02-preview ModelDeployment example reads back
as the manifest shape (``scale.autoscale``), the shape the emulator serves."""

from __future__ import annotations

from real_azure import example

from aimodels.providers.registry import default_registry


def test_the_2026_08_02_preview_model_deployment_example_reads_as_a_manifest():
    body = example("containerservice-2026-08-02-preview/ModelDeployments_Get.json")
    spec = default_registry().for_kind("ModelDeployment").from_live(body)
    assert spec["aiManager"] == "aimanager1" and spec["namespace"] == "namespace-1"
    assert spec["modelSource"] == "huggingface"
    assert spec["vmSize"] == "Standard_NC96ads_A100_v4"
    assert spec["scale"] == {"autoscale": {"minReplicas": 2, "maxReplicas": 8}}
    assert "status" not in spec and "provisioningState" not in str(spec)
