"""aimodels: declarative infrastructure-as-code for Azure AI models.

Manifests describe model sources, custom weights and deployments; ``plan`` diffs them against live
Azure state and ``apply`` carries the plan out as a dependency graph with ETag preconditions.
Importing this package is cheap on purpose: the CLI must start fast.
"""

__version__ = "0.1.0"
