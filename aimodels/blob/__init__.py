"""Azure Blob Storage, the one seam: reaching an account (``client``: the account URL, the
credential, the retry policy), what storage errors mean to aimodels (``errors``: the one map,
worded per use), the few blob operations the state backend needs as plain values (``store``:
conditional writes, snapshots, leases, append blobs), the registry's data store (``listing``:
list and delete through its SAS), the copies the service makes (``copy``) and the block blobs a
weights upload stages and commits (``blocks``).

azure-storage-blob and azure-core are imported here (and, for its failures' types, by
``transport/credentials.py``; the emulator's blob service has its own), never by the state or
planning code, which sees only ``store.BlobStore``, nor by the upload logic
(``apply/upload_blocks.py``), which sees ``blocks.BlockBlob``; azure-identity too, lazily, for
``DefaultAzureCredential`` (the one import of it outside ``transport/``: storage takes the
credential object, not a token).
"""
