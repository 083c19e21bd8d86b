"""The repository installs as a package (issue 19 point 8): the wheel carries the data the code reads with
importlib.resources (card profiles, string catalogues, the NIST schema, migrations, Kivy layouts) and the console
entry points of the applications; nothing the product reads lies outside the installed packages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("election", "kiosk", "sync", "central", "collector", "remote", "tools", "config")


def test_the_wheel_carries_the_data_and_the_entry_points(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path)]
    # Built from a copy of what the wheel takes (setuptools writes build/ and *.egg-info beside the sources), and of
    # the development doubles (devtools/), which the wheel must leave out.
    source = tmp_path / "source"
    for item in (*PACKAGES, "devtools", "pyproject.toml", "run_kiosk.py"):
        if (ROOT / item).is_dir():
            shutil.copytree(ROOT / item, source / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / item, source / item)
    build = subprocess.run([*pip_wheel, str(source)], capture_output=True, text=True, env=env, check=False, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("sanduq-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in (
        "config/cards/oman_ias.toml",
        "config/strings.json",
        "config/standards/NIST_V2_election_results_reporting.json",
        "kiosk/accessibility/strings_kiosk.json",
        "kiosk/migrations/env.py",
        "kiosk/migrations/script.py.mako",
        "central/migrations/script.py.mako",
        "central/migrations/versions/r0001_initial_schema.py",
        "run_kiosk.py",
    ):
        assert data in names, f"{data} is not in the wheel"
    assert any(n.startswith("kiosk/") and n.endswith(".kv") for n in names), "no Kivy layout in the wheel"
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    for line in (
        "sanduq-kiosk = run_kiosk:main",
        "sanduq-central = central.__main__:main",
        "sanduq-guardian = election.guardian.__main__:main",
        "sanduq-verify = election.verify.__main__:main",
    ):
        assert line in scripts, scripts
    assert not any(n.startswith(("tests/", "bench/", "out/", "devtools/")) for n in names), (
        "test, bench or development-double files in the wheel"
    )


def test_product_code_finds_its_data_through_importlib_resources() -> None:
    """No product module climbs from its own file out of its package to reach data of the checkout."""
    climbing = re.compile(r"Path\(__file__\)[^\n]*(\.parents\[|\.parent\.parent)")
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("election", "sync", "central", "kiosk")
        for path in (ROOT / package).rglob("*.py")
        if climbing.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
