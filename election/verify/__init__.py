"""The independent verifier of an election record (``python -m election.verify <record dir>``).

It re-implements every check from the specification in docs/crypto.md and shares only the group and hash
primitives (``election.group``, ``election.canonical``) and the manifest parser with the code that produced
the record: a bug in the producer's proof code cannot hide itself from the verifier.
"""
