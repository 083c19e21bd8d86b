"""The guardian's tool: every key-ceremony and decryption step, working from files in a ceremony directory
so that guardians never need to be online together (``python -m election.guardian --help``)."""
