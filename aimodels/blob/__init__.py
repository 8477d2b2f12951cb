"""Azure Blob Storage, the one seam: reaching an account (``client``: the account URL, the
credential, the retry policy), what storage errors mean to aimodels (``errors``: the one map,
worded per use), the few blob operations the state backend needs as plain values (``store``:
conditional writes, snapshots, leases, append blobs), the registry's data store (``listing``:
list and delete through its SAS) and the copies the service makes (``copy``).

azure-storage-blob and azure-core are imported here (and by the block upload,
``apply/upload_blocks.py``, not split yet), never by the state or planning code, which sees only
``store.BlobStore``; azure-identity too, lazily, for ``DefaultAzureCredential`` (the one import
of it outside ``transport/``: storage takes the credential object, not a token).
"""
