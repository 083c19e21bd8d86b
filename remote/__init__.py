"""The voter app for remote voting (``python -m remote``) and the second-device check (``python -m remote.verify``).

docs/remote-voting.md describes the protocol with the vote collector; this package reuses the kiosk's card layer,
session machine, screens and the election core rather than copying them.
"""
