"""HTTP helpers that every stage's pages and API share: problem+json answers
(problems.py), bodies that really stream under WSGI and ASGI (streaming.py) and the one
rule for a request's client address (client_address.py).

It sits in the core, below the stage apps and above custody: a stage may import it, and
it imports no stage app (see the import-linter contract in pyproject.toml).
"""
