"""Chain of custody: a tamper-evident, independently verifiable record of every action.

Pure primitives, free of Django and of third-party code other than ``cryptography``:
``canonical`` (canonical JSON), ``merkle`` (RFC 9162 tree and proofs), ``note`` (C2SP signed
notes) and ``checkpoint`` (C2SP tlog checkpoints). ``overt_verify.py`` is the standalone
verifier shipped in every custody report; it imports nothing from overt.

The Django side: ``services`` (appending entries in the action's transaction), ``keys``
(the signing key outside the database), ``tree`` (the log's Merkle tree, cached per
process), ``checkpoints``, ``proofs``, ``verify`` (``overt verify`` and the scrub),
``report`` (per-recording custody reports), ``jobs``, ``api`` and ``urls``.
docs/custody.md explains it all to a reader who is not a programmer.
"""
