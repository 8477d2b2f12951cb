"""What aimodels remembers of what it manages: the local JSON backend with atomic writes,
lineage and serial, the write-ahead journal, and the state lock.

Modules: ``values`` (State, ResourceState, secret_digest), ``local`` (read_state,
write_state), ``journal`` (Journal), ``lock`` (acquire_lock, force_unlock), ``service`` (what
the ``state`` and ``force-unlock`` commands call).
"""
