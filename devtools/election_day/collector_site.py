"""The election day's vote collector (docs/election-day.md, docs/remote-voting.md): the day's election with
remote voting (a ``REMOTE`` centre with the collector's kiosk id, windows for voters at home and abroad open
during the day), the TLS material of the collector and of the office's link to it (TEST MATERIAL), and the
collector's configuration for ``python -m collector init|serve|handover``.

The collector runs as its own process on SQLite; the voter app reaches it over TLS pinned by the package
(``trust/collector.pem``), the office reaches its internal listener with a client certificate (the in-person
override), and at close the collector hands its counted ballots to the office with its enrolled kiosk key.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from devtools.test_pki import x509_build as xb

REMOTE_CENTRE = "REMOTE"
COLLECTOR_ID = "REMOTE-01"  # the demo's vote collector (its kiosk id in the day's manifest)


def day_definition(definition: Path, day: Path, collector_id: str, now: dt.datetime) -> Path:
    """A copy of the election definition whose manifest adds the collector (a unified ``REMOTE`` centre, the
    collector's kiosk id) and ``remote_voting``: voters abroad from a week before, voters at home from an hour
    before, both until the end of the day's polls (after the demo's run), as in Oman's 2023 app vote."""
    target = day / "definition"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(definition, target)
    path = target / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    first = data["wilayats"][0]["code"]
    data["centres"].append(
        {"id": REMOTE_CENTRE, "name": {"ar": "التصويت عن بعد", "en": "Remote voting"}, "wilayat": first,
         "unified": True, "serves": []}
    )  # fmt: skip
    data["kiosks"].append({"id": collector_id, "centre": REMOTE_CENTRE})
    start = now.replace(microsecond=0)
    closes = (start + dt.timedelta(hours=6)).isoformat()
    data["remote_voting"] = {
        "collector_ids": [collector_id],
        "windows": [
            {"group": "abroad", "opens": (start - dt.timedelta(days=7)).isoformat(), "closes": closes},
            {"group": "home", "opens": (start - dt.timedelta(hours=1)).isoformat(), "closes": closes},
        ],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return target


@dataclass(frozen=True)
class LinkTls:
    """The collector's server certificate (pinned by the voter app through the package) and the office's client
    certificate for the collector's internal listener, under one CA (TEST MATERIAL)."""

    ca: Path
    server_cert: Path
    server_key: Path
    office_cert: Path
    office_key: Path


def link_tls(directory: Path, now: dt.datetime) -> LinkTls:
    org = (NameOID.ORGANIZATION_NAME, "Sanduq demo vote collector (TEST MATERIAL)")
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=30)
    ca_key = xb.new_key()
    ca = xb.Issuer(xb.ca_certificate(xb.name(org, (NameOID.COMMON_NAME, "collector link CA")), ca_key, None,
                                     start, end, 0), ca_key)  # fmt: skip
    server_key = xb.new_key()
    server = xb.end_entity_certificate(
        xb.name(org, (NameOID.COMMON_NAME, "collector")), server_key.public_key(), ca, start, end,
        xb.key_usage(digital_signature=True), [ExtendedKeyUsageOID.SERVER_AUTH],
        san=[x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))],
    )  # fmt: skip
    office_key = xb.new_key()
    office = xb.end_entity_certificate(
        xb.name(org, (NameOID.COMMON_NAME, "central office")), office_key.public_key(), ca, start, end,
        xb.key_usage(digital_signature=True), [ExtendedKeyUsageOID.CLIENT_AUTH],
    )  # fmt: skip
    tls = LinkTls(directory / "link-ca.pem", directory / "collector-cert.pem", directory / "collector-key.TEST.pem",
                  directory / "office-client-cert.pem", directory / "office-client-key.TEST.pem")  # fmt: skip
    xb.write_cert(tls.ca, ca.cert)
    xb.write_cert(tls.server_cert, server)
    xb.write_key(tls.server_key, server_key)
    xb.write_cert(tls.office_cert, office)
    xb.write_key(tls.office_key, office_key)
    return tls


@dataclass(frozen=True)
class CollectorSite:
    directory: Path
    collector_id: str
    port: int
    internal_port: int
    tls: LinkTls

    @property
    def config(self) -> Path:
        return self.directory / "collector.toml"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def internal_url(self) -> str:
        return f"https://127.0.0.1:{self.internal_port}"

    def write_config(
        self, *, package: Path, commission_key: Path, roll: Path, abroad: list[str], office_url: str,
        kiosk_cert: Path, kiosk_key: Path, office_server_ca: Path,
    ) -> None:  # fmt: skip
        """``collector.toml`` (docs/remote-voting.md "Run it"): SQLite, the day's package and roll, the embassies'
        abroad registration, both listeners' TLS, and the office for the handover."""
        abroad_file = self.directory / "abroad.txt"
        abroad_file.write_text("# registered to vote from abroad (TEST MATERIAL)\n" + "".join(f"{c}\n" for c in abroad),
                               encoding="utf-8")  # fmt: skip
        values = {
            "id": self.collector_id,
            "database_url": f"sqlite:///{(self.directory / 'collector.sqlite3').resolve()}",
            "package": package.resolve(),
            "commission_key": commission_key.resolve(),
            "roll": roll.resolve(),
            "abroad": abroad_file.resolve(),
            "host": "127.0.0.1",
            "port": self.port,
            "internal_port": self.internal_port,
            "tls_cert": self.tls.server_cert.resolve(),
            "tls_key": self.tls.server_key.resolve(),
            "office_ca": self.tls.ca.resolve(),
            "office_url": office_url,
            "kiosk_cert": kiosk_cert.resolve(),
            "kiosk_key": kiosk_key.resolve(),
            "office_server_ca": office_server_ca.resolve(),
        }
        lines = ["# Written by devtools.election_day (the demo's vote collector). TEST MATERIAL paths.", "[collector]"]
        lines += [f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in values.items()]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def collector_site(day: Path, collector_id: str, port: int, internal_port: int, now: dt.datetime) -> CollectorSite:
    directory = day / "collector"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return CollectorSite(directory, collector_id, port, internal_port, link_tls(directory / "tls", now))
