"""Hand-made Plan values for the renderer tests: one builder per golden case.

They are built directly (no planner), shaped like what the planner and pre-flight produce:
specs in the manifest's shape, field paths rooted at the document, secrets masked.
"""

from __future__ import annotations

from collections.abc import Callable

from aimodels.errors import SourceLocation, error, warning
from aimodels.model.address import ResourceAddress
from aimodels.plan.values import (
    SENSITIVE_VALUE,
    Action,
    Change,
    CostEstimate,
    FieldChange,
    Plan,
    Reason,
)

_ARM = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-team-alpha"
_MANAGER = f"{_ARM}/providers/Microsoft.ContainerService/aiManagers/team-alpha"
_ACCOUNT = f"{_ARM}/providers/Microsoft.CognitiveServices/accounts/alpha-foundry"


def addr(text: str) -> ResourceAddress:
    return ResourceAddress.parse(text)


def deployment_spec(vm_size: str = "Standard_NC24ads_A100_v4", replicas: int = 1) -> dict:
    return {"aiManager": "team-alpha", "namespace": "prod",
            "model": {"catalog": "microsoft/Phi-4-mini-instruct"}, "vmSize": vm_size,
            "performanceMode": "Balanced", "scale": {"replicas": replicas}}


def foundry_spec(capacity: int = 150) -> dict:
    return {"account": "alpha-foundry",
            "model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"},
            "sku": {"name": "GlobalStandard", "capacity": capacity},
            "raiPolicyName": "Microsoft.DefaultV2"}


def create(name: str, spec: dict | None = None, cost: CostEstimate | None = None) -> Change:
    return Change(addr(f"ModelDeployment/{name}"), Action.CREATE,
                  (Reason.CREATE_BECAUSE_NOT_IN_LIVE,), after=spec or deployment_spec(),
                  resource_id=f"{_MANAGER}/namespaces/prod/modelDeployments/{name}",
                  cost=cost)


def upload(name: str = "llama-7b-code") -> Change:
    """A CustomModel whose weights go up first: pre-flight notes the size it will move."""
    return Change(addr(f"CustomModel/{name}"), Action.CREATE, (Reason.CREATE_BECAUSE_NOT_IN_LIVE,),
                  after={"path": "./weights/llama-7b.safetensors", "format": "safetensors",
                         "version": "1.0", "tags": {"team": "ml-platform"}},
                  resource_id=f"https://registry.example/custom-models/{name}",
                  notes=("upload 13.5 GB from weights/llama-7b.safetensors (sha256 3f2a9c0d…)",))


def replace_vm_size(name: str = "phi4-chat") -> Change:
    """The spec's example: a vmSize change forces a replacement; replicas change with it."""
    return Change(
        addr(f"ModelDeployment/{name}"), Action.REPLACE, (Reason.REPLACE_BECAUSE_IMMUTABLE_FIELD,),
        field_changes=(
            FieldChange("spec.scale.replicas", 1, 2),
            FieldChange("spec.vmSize", "Standard_NC24ads_A100_v4", "Standard_NC48ads_A100_v4",
                        forces_replacement=True)),
        before=deployment_spec(), after=deployment_spec("Standard_NC48ads_A100_v4", 2),
        precondition_etag='"0x8DC1A2B3C4D5E6F"',
        resource_id=f"{_MANAGER}/namespaces/prod/modelDeployments/{name}",
        replace_paths=("spec.vmSize",),
        cost=CostEstimate(hourly_before=3.67, hourly_after=7.35))


def update_capacity() -> Change:
    return Change(
        addr("FoundryDeployment/gpt4o"), Action.UPDATE, (Reason.UPDATE_BECAUSE_FIELDS_CHANGED,),
        field_changes=(FieldChange("spec.raiPolicyName", "Microsoft.DefaultV2", None),
                       FieldChange("spec.sku.capacity", 150, 200),
                       FieldChange("spec.versionUpgradeOption", None,
                                   "OnceNewDefaultVersionAvailable")),
        before=foundry_spec(), after={**foundry_spec(200), "raiPolicyName": None,
                                      "versionUpgradeOption": "OnceNewDefaultVersionAvailable"},
        precondition_etag='"etag-gpt4o-7"', resource_id=f"{_ACCOUNT}/deployments/gpt4o")


def delete(name: str = "old-chat", cost: CostEstimate | None = None) -> Change:
    return Change(addr(f"ModelDeployment/{name}"), Action.DELETE,
                  (Reason.DELETE_BECAUSE_NOT_IN_MANIFEST,), before=deployment_spec(),
                  precondition_etag='"etag-old-3"',
                  resource_id=f"{_MANAGER}/namespaces/prod/modelDeployments/{name}", cost=cost)


def forget(name: str = "llama-retired") -> Change:
    return Change(addr(f"CustomModel/{name}"), Action.NOOP,
                  (Reason.FORGET_BECAUSE_DELETED_OUTSIDE,),
                  resource_id=f"https://registry.example/custom-models/{name}")


def record_prevent_destroy(name: str = "phi4-chat") -> Change:
    """preventDestroy added to a deployment that is otherwise as live: a state-only change."""
    return Change(addr(f"ModelDeployment/{name}"), Action.NOOP,
                  (Reason.RECORD_BECAUSE_LIFECYCLE_CHANGED,),
                  field_changes=(FieldChange("spec.lifecycle.preventDestroy", False, True),),
                  before=deployment_spec(), after=deployment_spec(),
                  precondition_etag='"etag-phi4-5"',
                  resource_id=f"{_MANAGER}/namespaces/prod/modelDeployments/{name}")


def update_with_lifecycle() -> Change:
    """Capacity changes while ignoreChanges stops covering it: one update carries both."""
    return Change(
        addr("FoundryDeployment/gpt4o"), Action.UPDATE,
        (Reason.UPDATE_BECAUSE_FIELDS_CHANGED, Reason.RECORD_BECAUSE_LIFECYCLE_CHANGED),
        field_changes=(FieldChange("spec.lifecycle.ignoreChanges", ["sku.capacity"], []),
                       FieldChange("spec.sku.capacity", 150, 200)),
        before=foundry_spec(), after=foundry_spec(200), precondition_etag='"etag-gpt4o-7"',
        resource_id=f"{_ACCOUNT}/deployments/gpt4o")


def unchanged(name: str = "steady") -> Change:
    return Change(addr(f"ModelDeployment/{name}"), Action.NOOP, before=deployment_spec(),
                  after=deployment_spec(), precondition_etag='"etag-steady-1"',
                  resource_id=f"{_MANAGER}/namespaces/prod/modelDeployments/{name}")


def source_spec(credential: object = SENSITIVE_VALUE) -> dict:
    return {"aiManager": "team-alpha", "sourceType": "HuggingFace",
            "description": "Private Hugging Face org", "credential": credential}


def sensitive_update(before_credential: object = SENSITIVE_VALUE,
                     after_credential: object = SENSITIVE_VALUE) -> Change:
    """A rotated credential: only its digest changed, so the plan says so without a value."""
    return Change(
        addr("ModelSource/hf-private"), Action.UPDATE, (Reason.UPDATE_BECAUSE_FIELDS_CHANGED,),
        field_changes=(FieldChange("spec.credential", SENSITIVE_VALUE, SENSITIVE_VALUE,
                                   sensitive=True),
                       FieldChange("spec.description", "HF org", "Private Hugging Face org")),
        before={**source_spec(before_credential), "description": "HF org"},
        after=source_spec(after_credential), precondition_etag='"etag-hf-2"',
        resource_id=f"{_MANAGER}/modelSources/hf-private")


# --- the golden cases -----------------------------------------------------------------------


def empty_plan() -> Plan:
    return Plan.build([unchanged()], desired_digest="sha256:empty", state_lineage="lineage-1",
                      state_serial=4)


def one_of_each_plan() -> Plan:
    return Plan.build([create("phi4-new"), upload(), update_capacity(), replace_vm_size(),
                       delete(), forget(), unchanged()],
                      desired_digest="sha256:each", state_lineage="lineage-1", state_serial=7)


def replace_plan() -> Plan:
    return Plan.build([replace_vm_size()], desired_digest="sha256:replace",
                      state_lineage="lineage-1", state_serial=3)


def sensitive_plan() -> Plan:
    added = Change(
        addr("ModelSource/hf-public"), Action.UPDATE, (Reason.UPDATE_BECAUSE_CHANGED_OUTSIDE,),
        field_changes=(FieldChange("spec.credential", None, SENSITIVE_VALUE, sensitive=True),),
        before={"aiManager": "team-alpha", "sourceType": "HuggingFace"},
        after={"aiManager": "team-alpha", "sourceType": "HuggingFace",
               "credential": SENSITIVE_VALUE},
        precondition_etag='"etag-pub-1"', resource_id=f"{_MANAGER}/modelSources/hf-public")
    new = Change(addr("ModelSource/hf-mirror"), Action.CREATE,
                 (Reason.CREATE_BECAUSE_NOT_IN_LIVE,), after=source_spec(),
                 resource_id=f"{_MANAGER}/modelSources/hf-mirror")
    return Plan.build([sensitive_update(), added, new], desired_digest="sha256:secret",
                      state_lineage="lineage-1", state_serial=9)


def cost_plan() -> Plan:
    changes = [create("phi4-new", cost=CostEstimate(hourly_after=3.67)), replace_vm_size(),
               delete(cost=CostEstimate(hourly_before=2.5))]
    return Plan.build(changes, desired_digest="sha256:cost", state_lineage="lineage-1",
                      state_serial=12)


def preflight_plan() -> Plan:
    diagnostics = [
        error("quota exceeded for GlobalStandard gpt-4o in eastus",
              "requested 200 (150 in use, 300 limit per usage pool OpenAI.GlobalStandard.gpt-4o)\n"
              "Lower sku.capacity to at most 150, or request more quota.",
              address="FoundryDeployment/gpt4o", path="spec.sku.capacity",
              source=SourceLocation("deploy/foundry.yaml", 12, 5)),
        warning("model version 2024-11-20 is deprecated on 2026-03-01",
                "Pin a newer version before then; 2025-04-14 is available in eastus.",
                address="FoundryDeployment/gpt4o", path="spec.model.version"),
        error("vmSize Standard_NC48ads_A100_v4 is not offered in westus",
              "It is offered in eastus, eastus2 and southcentralus.",
              address="ModelDeployment/phi4-chat", path="spec.vmSize"),
    ]
    return Plan.build([update_capacity(), replace_vm_size()], diagnostics,
                      desired_digest="sha256:preflight", state_lineage="lineage-1",
                      state_serial=2)


def errors_only_plan() -> Plan:
    """Nothing to change, and errors: such a plan failed; it must never say it matches."""
    diagnostics = [error(f"ModelDeployment/chat-{i} already exists in Azure but aimodels does "
                         "not manage it", "aimodels never adopts an existing resource silently.",
                         address=f"ModelDeployment/chat-{i}") for i in (1, 2)]
    return Plan.build([unchanged()], diagnostics, desired_digest="sha256:errors",
                      state_lineage="lineage-1", state_serial=6)


def lifecycle_plan() -> Plan:
    return Plan.build([record_prevent_destroy(), update_with_lifecycle(), unchanged()],
                      desired_digest="sha256:lifecycle", state_lineage="lineage-1",
                      state_serial=8)


def forget_plan() -> Plan:
    return Plan.build([forget(), unchanged()], desired_digest="sha256:forget",
                      state_lineage="lineage-1", state_serial=5)


def special_characters_plan() -> Plan:
    """Values a markdown comment could trip over: pipes, backticks, fences, dollars, HTML."""
    odd = {**deployment_spec(), "overrides": {"stop": "a|b", "template": "```{{x}}``` `y`",
                                              "note": "<b>$5 & *bold*</b>"}}
    change = Change(addr("ModelDeployment/odd-values"), Action.CREATE,
                    (Reason.CREATE_BECAUSE_NOT_IN_LIVE,), after=odd,
                    warnings=("overrides.note has `markup` | pipes",))
    return Plan.build([change], [warning("odd | value", "a `tick` and a | pipe",
                                         address="ModelDeployment/odd-values")],
                      desired_digest="sha256:odd", state_lineage="lineage-1", state_serial=1)


def large_plan(count: int = 2000) -> Plan:
    """Many deployments: creates, replaces and deletes in turn, each priced."""
    changes = []
    for i in range(count):
        name = f"dep-{i:04d}"
        if i % 3 == 0:
            changes.append(create(name, cost=CostEstimate(hourly_after=3.67)))
        elif i % 3 == 1:
            changes.append(replace_vm_size(name))
        else:
            changes.append(delete(name, cost=CostEstimate(hourly_before=3.67)))
    diagnostics = [warning(f"replica count {i} is above the usual", "Check the quota.",
                           address=f"ModelDeployment/dep-{i:04d}") for i in range(0, count, 50)]
    return Plan.build(changes, diagnostics, desired_digest="sha256:large",
                      state_lineage="lineage-1", state_serial=99)


#: Golden cases: the builder and the formats rendered to tests/render/golden/<case>.<ext>.
ALL = ("txt", "json", "md")
CASES: dict[str, tuple[Callable[[], Plan], tuple[str, ...]]] = {
    "empty": (empty_plan, ALL),
    "one_of_each": (one_of_each_plan, ALL),
    "replace_forces": (replace_plan, ALL),
    "sensitive": (sensitive_plan, ALL),
    "costs": (cost_plan, ALL),
    "preflight": (preflight_plan, ALL),
    "forget": (forget_plan, ALL),
    "errors_only": (errors_only_plan, ALL),
    "lifecycle": (lifecycle_plan, ALL),
    "special_characters": (special_characters_plan, ALL),
    # 2,000 changes: the markdown comment is the point; text and JSON would be megabytes.
    "large": (large_plan, ("md",)),
}
