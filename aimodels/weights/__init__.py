"""CustomModel weights on this machine: where they are (``source``), what they are
(``formats``: detected from content), and what they hash to (``hashing``, with a stat-keyed
``cache`` so that planning unchanged multi-GB weights costs a few ``stat`` calls).

Nothing here talks to Azure: the upload itself is ``aimodels.apply.upload``.
"""
