#!/usr/bin/env bash
# Installs what Sanduq needs on a fresh Debian 12 machine, idempotently:
#  - system packages (only when run as root, and only those missing), see ../shared/PLATFORM.md
#  - a .venv with the exact versions pinned in requirements.lock
# Called by `make venv` (and so by `make test`, `make demo`, `make kiosk`, `make lint`).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Kivy: GL through EGL/Mesa, offscreen or under Xvfb
  libgl1 libgl1-mesa-dri libegl1 libegl-mesa0 libgles2 libmtdev1 xvfb xauth
  # Arabic text shaping and bidi (Pillow's raqm layout) and a font with Arabic and Latin glyphs
  libfribidi0 libraqm0 fonts-hosny-amiri
  # PC/SC: the daemon, headers for building pyscard, the virtual reader driver, inspection tools
  pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools opensc
  # Speech synthesis for the audio ballot, and audio measurement/conversion
  espeak-ng sox libsox-fmt-base
  # PostgreSQL 15 for the central office tests
  postgresql
  # Headless browser for dashboard tests
  chromium chromium-driver
  # libsodium for ristretto255 (election.group, through pysodium)
  libsodium23
  # HAProxy for the multi-instance office test (tests/scale) and docs/operations.md
  haproxy
  # zbar for reading QR codes back in the voter app and second-device check tests (pyzbar)
  libzbar0
  # Building pyscard from source
  gcc python3-dev
)

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "setup: not root; assuming the system packages are installed (see tools/setup.sh)"
fi

PYTHON=${PYTHON:-python3}
# requirements.lock: the runtime; requirements-dev.lock: the runtime (it includes requirements.lock) plus tests,
# linters and browser tests. A checkout is for development, so both; a kiosk or office machine needs only the
# runtime (`pip install -r requirements.lock` and `pip install --no-deps .`).
stamp=.venv/.installed-$(cat requirements.lock requirements-dev.lock | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: creating .venv from requirements.lock and requirements-dev.lock"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  # (pip's notes about unused local index locations of this machine's pip config are noise here)
  .venv/bin/pip install -q --upgrade pip wheel setuptools 2> >(grep -v "^WARNING: Location" >&2)
  .venv/bin/pip install -q -r requirements-dev.lock 2> >(grep -v "^WARNING: Location" >&2)
  # The project itself, editable and without dependencies (all pinned above): its console entry points
  # (sanduq-kiosk, sanduq-central, sanduq-guardian, sanduq-verify) and package data found by importlib.resources.
  PYTHONWARNINGS=ignore .venv/bin/pip install -q --no-deps --no-build-isolation -e . 2> >(grep -v "^WARNING: Location" >&2)
  rm -f .venv/.installed-*
  touch "$stamp"
fi
