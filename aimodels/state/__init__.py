"""What aimodels remembers of what it manages: the state document, the backends that keep it
(a local JSON file, or a blob shared by a team), the write-ahead journal, and the state lock.

Modules: ``values`` (State, ResourceState, secret_digest), ``document`` (bytes to State and
back, the Stack claim), ``backend`` (the ``StateBackend`` interface, the local backend,
``open_backend``), ``local`` (read_state, write_state), ``blob`` (the azureblob backend),
``lease`` (its lock: a renewed blob lease), ``journal`` (Journal), ``lock`` (the local lock
file), ``service`` (what the ``state`` and ``force-unlock`` commands call).
"""
