"""The pure election core shared by the kiosk, the central office and the verifier.

Nothing in this package imports Kivy, pyscard, HTTP or SQL; clocks and randomness are passed in.
"""
