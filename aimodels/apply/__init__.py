"""The graph executor: carries out exactly the changes a Plan lists, dependencies first, with
ETag preconditions, bounded parallelism and events for the renderer.

Modules: ``executor`` (``apply_plan``), ``operations`` (the writes per API family), ``upload``
(CustomModel weights through the SAS), ``state_store`` (state and journal writes), ``recovery``
(settling what an interrupted run left open), ``saved_plan`` (``apply PLANFILE``), ``events``.
"""
