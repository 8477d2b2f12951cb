"""GPU sizing for the AI manager: the model catalog and VM sizes of the fixtures, how one replica
of a model fits a VM size, how much GPU quota is left, and the ranked plans of calculateCost.

The rules are simple on purpose, so a test (or a person reading a plan) can predict them:
weights take ``parameterCount x bytes-per-parameter`` (fp16 2, fp8 1, awq-int4 0.5) plus 20% for
the KV cache; a replica uses the first quantization that fits one VM, else spreads over several
VMs when the size has InfiniBand. A size is ``InefficientDeployment`` when it cannot hold the
model without InfiniBand, or when it has at least four times the GPUs the model needs. Quota is
counted in GPUs per VM family and region (fixture ``containerService.gpuQuota``), shared by every
deployment of the subscription in that region.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from aimodels.emulator import lro
from aimodels.emulator.containerservice.arm import MODEL_DEPLOYMENTS, key

BYTES_PER_PARAMETER = {"fp16": 2.0, "fp8": 1.0, "awq-int4": 0.5}
#: Weights plus room for the KV cache and activations.
MEMORY_OVERHEAD = 1.2
GIB = 2**30
#: A size with this many times the GPUs a replica needs wastes most of them.
WASTE_FACTOR = 4
#: Rough tokens/s gains over fp16 (fp8 on Hopper, AWQ kernels), for the relative scores only.
_QUANT_SPEED = {"fp16": 1.0, "fp8": 1.6, "awq-int4": 1.3}


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """One entry of the platform catalog (fixture ``containerService.catalog``)."""

    model_id: str
    description: str
    license: str
    is_restricted: bool
    max_context_length: int
    parameter_count: int
    size_bytes: int

    @property
    def name(self) -> str:
        """The AIModel resource name: the first 16 hex digits of sha256(modelId)."""
        return model_name(self.model_id)


@dataclass(frozen=True, slots=True)
class VmSize:
    """A GPU VM size with its price and the regions offering it (``containerService.vmSizes``)."""

    name: str
    family: str
    gpu_type: str
    gpus_per_vm: int
    gpu_memory_gib: int
    hourly_price: float
    regions: tuple[str, ...]
    supports_fp8: bool
    infiniband: bool
    relative_speed: float

    @property
    def memory_bytes(self) -> int:
        return self.gpus_per_vm * self.gpu_memory_gib * GIB


@dataclass(frozen=True, slots=True)
class Fit:
    """How one replica of a model runs on a VM size; ``inefficiency`` says why it should not."""

    quantization: str
    vms_per_replica: int
    #: GPUs doing work: tensor parallelism uses a power of two; the rest of the VM idles.
    gpus_used: int
    inefficiency: str | None = None


def model_name(model_id: str) -> str:
    return hashlib.sha256(model_id.encode()).hexdigest()[:16]


def catalog(fixtures: dict[str, Any]) -> list[CatalogModel]:
    """Every catalog model, in fixture order."""
    return [CatalogModel(model_id=m["modelId"], description=m.get("description", ""),
                         license=m.get("license", ""), is_restricted=bool(m.get("isRestricted")),
                         max_context_length=int(m["maxContextLength"]),
                         parameter_count=int(m["parameterCount"]),
                         size_bytes=int(m.get("sizeBytes", 2 * int(m["parameterCount"]))))
            for m in fixtures.get("containerService.catalog", [])]


def find_model(fixtures: dict[str, Any], name: str) -> CatalogModel | None:
    """The model whose resource name (or, leniently, modelId) is ``name``."""
    wanted = name.lower()
    for model in catalog(fixtures):
        if wanted in (model.name, model.model_id.lower()):
            return model
    return None


def vm_sizes(fixtures: dict[str, Any]) -> list[VmSize]:
    """Every known GPU VM size, in fixture order."""
    return [VmSize(name=v["name"], family=v["family"], gpu_type=v["gpuType"],
                   gpus_per_vm=int(v["gpusPerVm"]), gpu_memory_gib=int(v["gpuMemoryGiB"]),
                   hourly_price=float(v["hourlyPriceUSD"]),
                   regions=tuple(r.lower() for r in v.get("regions", [])),
                   supports_fp8=bool(v.get("supportsFp8")), infiniband=bool(v.get("infiniBand")),
                   relative_speed=float(v.get("relativeGpuSpeed", 1.0)))
            for v in fixtures.get("containerService.vmSizes", [])]


def find_vm_size(fixtures: dict[str, Any], name: str) -> VmSize | None:
    """The VM size named ``name`` (case-insensitively), if known."""
    return next((v for v in vm_sizes(fixtures) if v.name.lower() == name.lower()), None)


def regions(fixtures: dict[str, Any]) -> list[str]:
    """Every region some VM size or quota entry names."""
    names = {r for v in vm_sizes(fixtures) for r in v.regions}
    names.update(k.lower() for k in fixtures.get("containerService.gpuQuota", {}))
    return sorted(names)


def normalize_location(location: str) -> str:
    """``East US`` and ``eastus`` name the same region."""
    return location.replace(" ", "").lower()


def fit(model: CatalogModel, vm: VmSize) -> Fit:
    """The quantization and VM count of one replica of ``model`` on ``vm``."""
    for quantization in _quantizations(vm):
        if _need(model, quantization) <= vm.memory_bytes:
            return _single_vm(model, vm, quantization)
    if vm.infiniband:
        quantization = "fp8" if vm.supports_fp8 else "fp16"
        vms = math.ceil(_need(model, quantization) / vm.memory_bytes)
        return Fit(quantization, vms, vms * vm.gpus_per_vm)
    need = _need(model, "awq-int4")
    vms = math.ceil(need / vm.memory_bytes)
    return Fit("awq-int4", vms, vms * vm.gpus_per_vm,
               f"{model.model_id} needs {need / GIB:.0f} GiB of GPU memory even at awq-int4 but "
               f"{vm.name} has {vm.memory_bytes // GIB} GiB; spreading it over {vms} VMs without "
               "InfiniBand falls below the serving throughput threshold.")


def _quantizations(vm: VmSize) -> tuple[str, ...]:
    return ("fp16", "fp8", "awq-int4") if vm.supports_fp8 else ("fp16", "awq-int4")


def _need(model: CatalogModel, quantization: str) -> float:
    return model.parameter_count * BYTES_PER_PARAMETER[quantization] * MEMORY_OVERHEAD


def _single_vm(model: CatalogModel, vm: VmSize, quantization: str) -> Fit:
    gpus = max(1, math.ceil(_need(model, quantization) / (vm.gpu_memory_gib * GIB)))
    used = min(vm.gpus_per_vm, 1 << (gpus - 1).bit_length())
    if vm.gpus_per_vm < WASTE_FACTOR * gpus:
        return Fit(quantization, 1, used)
    return Fit(quantization, 1, used,
               f"{model.model_id} needs {gpus} GPU(s) at {quantization} but {vm.name} has "
               f"{vm.gpus_per_vm}; the idle GPUs make this size inefficient, choose a smaller one.")


def gpus_per_replica(vm: VmSize, placement: Fit) -> int:
    return vm.gpus_per_vm * placement.vms_per_replica


def quota_limit(fixtures: dict[str, Any], location: str, family: str) -> int:
    """The GPU quota of ``family`` in ``location`` (0 when the fixtures grant none)."""
    by_region = fixtures.get("containerService.gpuQuota", {})
    return int(by_region.get(normalize_location(location), {}).get(family, 0))


def gpus_in_use(emu: Any, sub: str, location: str, family: str, exclude_id: str = "") -> int:
    """GPUs of ``family`` held by the subscription's deployments in ``location``.

    A deployment holds its quota until its delete finishes; ``exclude_id`` leaves out the one
    being replaced, whose new size is checked instead.
    """
    now = emu.now()
    total = 0
    for doc in emu.store.list(MODEL_DEPLOYMENTS, key(sub) + "/"):
        usage = doc.get("_quota") or {}
        if (usage.get("location") == normalize_location(location) and usage.get("family") == family
                and doc["id"].lower() != exclude_id.lower() and not lro.is_gone(doc, now)):
            total += int(usage.get("gpus", 0))
    return total


def cost_plans(emu: Any, model: CatalogModel, sub: str, location: str,
               replicas: int) -> list[dict[str, Any]]:
    """calculateCost's plans: feasible ones by totalHourlyPrice, then the infeasible ones."""
    price_as_of = emu.fixtures.get("containerService.priceAsOf")
    plans = [_plan(emu, model, vm, sub, location, replicas) for vm in vm_sizes(emu.fixtures)]
    _score(plans)
    for plan in plans:
        plan.pop("_raw")
        if price_as_of:
            plan["priceAsOf"] = price_as_of
    feasible = [p for p in plans if p["feasible"]]
    infeasible = [p for p in plans if not p["feasible"]]
    feasible.sort(key=lambda p: (p["totalHourlyPrice"], p["vmSize"]))
    infeasible.sort(key=lambda p: (p["vmHourlyPrice"], p["vmSize"]))
    return feasible + infeasible


def _plan(emu: Any, model: CatalogModel, vm: VmSize, sub: str, location: str,
          replicas: int) -> dict[str, Any]:
    placement = fit(model, vm)
    per_replica = gpus_per_replica(vm, placement)
    offered = normalize_location(location) in vm.regions
    limit = quota_limit(emu.fixtures, location, vm.family)
    free = limit - gpus_in_use(emu, sub, location, vm.family)
    plan: dict[str, Any] = {
        "vmSize": vm.name, "gpuType": vm.gpu_type, "gpusPerVm": vm.gpus_per_vm,
        "quantization": placement.quantization, "vmsPerReplica": placement.vms_per_replica,
        "maxAvailableReplicas": max(0, free) // per_replica if offered else 0,
        "vmHourlyPrice": vm.hourly_price, "_raw": _raw_speed(vm, placement),
    }
    reason = _infeasibility(vm, placement, location, replicas * per_replica, free)
    plan["feasible"] = reason is None
    if reason is None:
        total = replicas * placement.vms_per_replica * vm.hourly_price
        plan["totalHourlyPrice"] = round(total, 4)
    else:
        code, message = reason
        plan.update(infeasibleCode=code, infeasibleMessage=message,
                    infeasibilityReason={"code": code, "message": message})
    return plan


def _infeasibility(vm: VmSize, placement: Fit, location: str, gpus: int,
                   free: int) -> tuple[str, str] | None:
    if normalize_location(location) not in vm.regions:
        return ("RegionUnavailable",
                f"{vm.name} is not offered in {location}; it is offered in "
                f"{', '.join(vm.regions)}.")
    if placement.inefficiency:
        return "InefficientDeployment", placement.inefficiency
    if gpus > free:
        return ("InsufficientQuota",
                f"This plan needs {gpus} {vm.family} GPUs in {location} but the subscription has "
                f"{max(free, 0)} available. Request a quota increase or choose another size.")
    return None


def _raw_speed(vm: VmSize, placement: Fit) -> tuple[float, float]:
    """(throughput, latency) before normalizing; slow interconnects halve both."""
    per_gpu = vm.relative_speed * _QUANT_SPEED[placement.quantization]
    penalty = 0.5 if placement.vms_per_replica > 1 and not vm.infiniband else 1.0
    throughput = per_gpu * placement.gpus_used * penalty
    return throughput, per_gpu * penalty


def _score(plans: list[dict[str, Any]]) -> None:
    best_throughput = max((p["_raw"][0] for p in plans), default=1.0) or 1.0
    best_latency = max((p["_raw"][1] for p in plans), default=1.0) or 1.0
    for plan in plans:
        throughput, latency = plan["_raw"]
        plan["servingPerformanceEstimation"] = {
            "relativeLatencyScore": round(latency / best_latency, 2),
            "relativeThroughputScore": round(throughput / best_throughput, 2),
        }


def peak_tokens_per_minute(model: CatalogModel, vm: VmSize, placement: Fit, mode: str) -> int:
    """A plausible per-replica peak for status.peakTokensPerMinute (not a measurement)."""
    throughput, _ = _raw_speed(vm, placement)
    billions = max(model.parameter_count / 1e9, 1.0)
    factor = {"Throughput": 1.25, "Latency": 0.8}.get(mode, 1.0)
    return int(round(throughput * factor * 2_400_000 / billions, -2))
