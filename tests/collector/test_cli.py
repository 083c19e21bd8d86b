"""``python -m collector``: init creates the database; a bad configuration or a missing package is one clear line
and exit status 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collector", *args], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_init_then_a_missing_package_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "collector.db"
    config = tmp_path / "collector.toml"
    config.write_text(
        "[collector]\n"
        'id = "REMOTE-01"\n'
        f'database_url = "sqlite:///{db}"\n'
        'package = "missing.pkg"\n'
        'commission_key = "missing.pem"\n'
        'roll = "roll.csv"\n',
        encoding="utf-8",
    )
    done = run("init", "--config", str(config))
    assert done.returncode == 0, done.stderr
    tables = set(inspect(create_engine(f"sqlite:///{db}")).get_table_names())
    assert {"challenges", "credentials", "submissions", "in_person"} <= tables
    failed = run("export", "--config", str(config), "--out", str(tmp_path / "record"))
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.startswith("collector: ") and "missing.pem" in failed.stderr


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "collector.toml"
    config.write_text('[collector]\nid = "REMOTE-01"\nport = "x"\nsurprise = 1\n', encoding="utf-8")
    failed = run("init", "--config", str(config))
    assert failed.returncode == 2 and "surprise" in failed.stderr and "Traceback" not in failed.stderr
