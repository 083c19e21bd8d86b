"""Development doubles and demo machinery: the test PKI, the virtual card, the demo election and the election
day, the sample election, the real-office and cluster harnesses of the tests and benchmarks, screenshots.

Never shipped in the wheel, never imported by a product package (election, kiosk, sync, central, collector,
remote, tools): see the import contracts in pyproject.toml.
"""
