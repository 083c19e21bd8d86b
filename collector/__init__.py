"""The vote collector: the internet-facing service of remote voting (docs/remote-voting.md).

It authenticates the voter's ID card as a kiosk does (kiosk.card.pki), registers the voter's credential, accepts
credential-signed encrypted ballots (the election core's EncryptedBallot, fully verified), lets a voter ask with
the card whether a remote ballot was recorded under their identity, serves a ballot to the voter's second device
for a short window, voids a credential when the voter votes in person, and at close writes the record part
``remote/`` with each credential's last ballot.
"""
