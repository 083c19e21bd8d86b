"""Sanduq's configuration data, installed with the code as package data: the card profiles (``cards/*.toml``), the
voter-facing string catalogue (``strings.json``), the NIST SP 1500-100 results schema (``standards/``) and the
example office configuration (``central.toml``). Code reads them with ``importlib.resources.files("config")``,
never by a path relative to the checkout; an election's own files (package, office configuration) are passed in."""
