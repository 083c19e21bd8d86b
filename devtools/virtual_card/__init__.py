"""Virtual eID card for tests and demos: emulator (card.py), vpcd link (vpcd.py), isolated pcscd (harness.py)."""
