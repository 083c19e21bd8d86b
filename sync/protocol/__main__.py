"""``python -m sync.protocol schema [--out PATH]``: write the JSON Schema (docs/sync-protocol.schema.json)."""

import sys

from sync.protocol.schema import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
