"""A kiosk without Kivy for the accessibility tests: the real session machine and driver over the kiosk's
in-memory fakes, with the real accessibility shell, audio queue and clip library (clips are placeholder
bytes) and a fake player that records every clip started."""

from __future__ import annotations

from pathlib import Path

from devtools.demo_election.build import small_manifest
from devtools.fakes import FakeBallots, FakeCard, FakeCardSpec, FakePollBook, FakeStaff, ManualScheduler, MemoryAudit
from devtools.loop import InlineLoop
from election.audio_clips import ClipIndex
from election.manifest import Language, Manifest
from kiosk.accessibility.audio import AudioQueue, ClipLibrary, FakePlayer
from kiosk.accessibility.input import Key, Switch
from kiosk.accessibility.prompts import PromptContext
from kiosk.accessibility.shell import AccessibilityShell
from kiosk.driver import Ports, SessionDriver
from kiosk.session import SessionConfig, VoterSession, initial_state
from kiosk.session import events as ev
from kiosk.session.model import CardKind, ClipId, KioskMode, Phase
from kiosk.session.voter_state import SessionState
from tools.audio_catalogue import clip_index

MANIFEST = small_manifest()
INDEX = clip_index(MANIFEST)
CONTEST = MANIFEST.contests[0]  # 2 seats, 6 candidates


def package_files(manifest: Manifest, index: ClipIndex) -> dict[str, bytes]:
    """Every clip the package would hold, as placeholder bytes (the library only copies them)."""
    files: dict[str, bytes] = {}
    for entry in index.clips.values():
        for language in Language:
            if entry.text.in_language(language):
                files[entry.path(language)] = b"OggS fake clip ".ljust(64, b".") + entry.path(language).encode()
    for contest in manifest.contests:
        for k in contest.candidates:
            files[k.audio.ar] = files[k.audio.en] = b"OggS fake candidate clip".ljust(64, b".")
    return files


class AccessibleKiosk:
    def __init__(self, cache: Path, manifest: Manifest = MANIFEST) -> None:
        self.manifest = manifest
        self.loop = InlineLoop()
        self.card = FakeCard()
        roll = {f"1000{i}": c.wilayat for i, c in enumerate(manifest.contests)}
        self.poll_book = FakePollBook(manifest, roll=roll)
        self.ballots = FakeBallots(self.poll_book)
        self.audit = MemoryAudit()
        self.player = FakePlayer()
        library = ClipLibrary(package_files(manifest, INDEX), INDEX, manifest, cache)
        self.queue = AudioQueue(self.player, library)
        self.shell = AccessibilityShell(
            ctx=PromptContext(manifest, INDEX.strings),
            queue=self.queue,
            dispatch=self.send,
            audit=self.audit.record,
        )
        ports = Ports(
            card=self.card,
            poll_book=self.poll_book,
            ballots=self.ballots,
            staff=FakeStaff(),
            audit=self.audit,
            speaker=self.shell,
            scheduler=ManualScheduler(),
        )
        self.driver = SessionDriver(
            machine=VoterSession(SessionConfig(manifest)),
            state=initial_state(KioskMode(polls_open=True)),
            ports=ports,
            marshal=self.loop.call_soon,
            run_blocking=self.loop.call_soon,
        )
        self.driver.listeners.append(self.shell.on_state)
        self.shell.on_state(self.driver.state)
        self.now = 0.0
        self._seen = 0

    @property
    def state(self) -> SessionState:
        return self.driver.state

    @property
    def phase(self) -> Phase:
        return self.driver.state.phase

    def send(self, event: ev.Event) -> None:
        self.driver.dispatch(event)
        self.loop.run_until_idle()

    def insert_voter(self, contest_index: int = 0) -> None:
        self.card.insert(FakeCardSpec(f"1000{contest_index}"))
        self.send(ev.CardInserted())

    def insert_staff(self, staff_id: str = "S-042") -> None:
        self.card.insert(FakeCardSpec(staff_id, kind=CardKind.STAFF))
        self.send(ev.CardInserted())

    def remove_card(self) -> None:
        self.card.remove()
        self.send(ev.CardRemoved())

    def listen(self) -> list[ClipId]:
        """Let the kiosk finish talking; returns every clip started since the last call."""
        self.player.drain()
        played = self.player.clips[self._seen :]
        self._seen = len(self.player.clips)
        return list(played)

    def press(self, *keys: Key) -> list[ClipId]:
        """Press controller keys, listening to the end after each; returns the clips heard."""
        heard: list[ClipId] = []
        for key in keys:
            self.shell.on_key(key)
            heard += self.listen()
        return heard

    def switch(self, *switches: Switch) -> list[ClipId]:
        heard: list[ClipId] = []
        for s in switches:
            self.now += 0.5
            self.shell.on_switch(s, self.now)
            heard += self.listen()
        return heard

    def wait(self, seconds: float, step: float = 0.25) -> list[ClipId]:
        """Time passes (auto-scan); the kiosk's clips play to the end as they start."""
        heard: list[ClipId] = []
        end = self.now + seconds
        while self.now < end:
            self.now += step
            self.shell.tick(self.now)
            heard += self.listen()
        return heard
