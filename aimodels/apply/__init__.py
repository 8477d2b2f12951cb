"""The graph executor: carries out exactly the changes a Plan lists, dependencies first, with
ETag preconditions, bounded parallelism and events for the renderer.

Modules: ``executor`` (``apply_plan``), ``operations`` (the writes per API family), ``upload``
(CustomModel weights through the SAS), ``state_store`` (state and journal writes), ``entries``
(the state entry of an applied change), ``interrupt`` (Ctrl-C: stopping with the writes in
flight journaled), ``recovery`` (settling what an interrupted run left open: re-attaching to its
operations), ``relocate`` (finding what an older journal's intents acted on), ``pending`` (what
a read-only plan says of an interrupted apply), ``saved_plan`` (``apply PLANFILE``), ``events``.
"""
