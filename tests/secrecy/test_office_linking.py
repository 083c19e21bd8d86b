"""The office plays the attacker: it records every message a kiosk sends it, with its arrival time, over a day
of voters, and tries to link voters to ballots (issue 15, points 1 and 2).

A day at one kiosk with the production defaults (``WorkerConfig()``: rounds every 2 s, ``batch_window`` 600 s,
``mark_group`` 10; the ballot box's ``min_batch`` 10): 220 voters arrive at random over about seven hours;
each is checked in by the REAL central office (``python -m central serve`` over HTTPS with mutual TLS, on
PostgreSQL), takes one to four minutes, and casts through the real ballot box (a few challenge a ballot first,
a few leave without casting). The real sync worker delivers everything to the same office. Time is simulated
(the worker's clocks are injected): the worker runs its round on the 2-second grid as its thread does, right
after each wake it accepts, and at least every 60 s (idle rounds in between would send identical heartbeats).
Every request that reaches the office is recorded by the kiosk's client with the simulated time.

Then every linking strategy below guesses, for each voter who cast, which ballot is theirs. A strategy gives a
probability to each candidate ballot; its score is the mean probability it gave the voter's true ballot (chance
within a batch is ``1 / batch size``). The traffic strategies use what the kiosk's traffic adds to what must be
public anyway: arrival times, arrival order, counts in heartbeats, batch composition, audit entries, voted marks.

The ``order`` strategies join the public orders of a kiosk's ballots to the check-in requests, live by necessity,
which put its voters in cast order: the published batch chain (batches in order, each batch's links sorted by
confirmation code, which binds only the ballot, the kiosk and the election) and the kiosk's audit log (cast
entries name no ballot; a ``batch_sealed`` entry names its batch's ballots sorted by id). Before the batch chain
(issue 15 point 2) each code chained from the previous ballot's and each cast entry named its ballot, and both
joins linked every voter (score 1.000); now they must be at chance within a batch too
(docs/sync-protocol.md, "What an office that records its traffic can still link").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import random
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from devtools.real_office import CENTRE_ID, KIOSK_ID, STYLE, CentralOffice, RealElection, chained, roll
from devtools.sample_election import random_plaintext
from election.ballot import encrypt_ballot
from election.benaloh import challenge_ballot
from election.confirmation import confirmation_code
from election.manifest import BallotStyleId
from kiosk.ballot_box import DEFAULT_MIN_BATCH, BallotBox, BallotToStore
from kiosk.polls import PollsAction
from sync.client import SyncClient
from sync.protocol import CheckinRequest, CheckinResponse, ReleaseReason
from sync.worker import SyncWorker, WorkerConfig
from tests.ballot_box.kit import CHAIR

pytestmark = pytest.mark.integration

VOTERS = 220
FIRST_VOTER = 94_000_000
MARGIN = 0.08
"""Four standard deviations of a chance score over ~200 voters at 1/10 (sqrt(0.09 / 200) = 0.021)."""
ROUND = WorkerConfig("x", "0" * 64).interval
IDLE_ROUND = 60.0
EPOCH = dt.datetime(2026, 10, 27, 3, 0, tzinfo=dt.UTC)  # 07:00 in Muscat


@dataclass(frozen=True)
class Message:
    at: float
    name: str
    body: dict[str, Any]
    token: str | None
    answer: dict[str, Any] | None = None


class SimClock:
    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> dt.datetime:
        return EPOCH + dt.timedelta(seconds=self.t)


class RecordingClient(SyncClient):
    """The kiosk's real client; every request the office answered is recorded with the simulated time."""

    def __init__(self, url: str, election: RealElection, clock: SimClock) -> None:
        super().__init__(url, election.tls(), read_timeout=60)
        self.clock = clock
        self.messages: list[Message] = []

    def _post(self, name: str, body: bytes, response: Any, token: str | None = None) -> Any:
        answer = super()._post(name, body, response, token)
        self.messages.append(Message(self.clock.t, name, json.loads(body), token, json.loads(answer.model_dump_json())))
        return answer


@dataclass
class Day:
    messages: list[Message]
    truth: dict[str, str]  # civil number -> the ballot id they cast
    checkin_at: dict[str, float]
    civil_of_token: dict[str, str]
    released: set[str]
    batch_sizes: list[int] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)  # every kiosk-side log line of the day, then the office's log


class LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def simulate_day(election: RealElection, office: CentralOffice, box: BallotBox, rng: random.Random) -> Day:
    logs = LogLines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(logs)
    root.setLevel(logging.DEBUG)
    try:
        day = _simulate_day(election, office, box, rng)
    finally:
        root.removeHandler(logs)
        root.setLevel(level)
    day.logs = logs.lines
    return day


def _simulate_day(election: RealElection, office: CentralOffice, box: BallotBox, rng: random.Random) -> Day:
    clock = SimClock()
    client = RecordingClient(office.url, election, clock)
    worker = SyncWorker(box, client, WorkerConfig("test", "0" * 64), monotonic=clock.monotonic, wall_clock=clock.wall)
    truth: dict[str, str] = {}
    checkin_at: dict[str, float] = {}
    civil_of_token: dict[str, str] = {}
    released: set[str] = set()
    next_round = 0.0

    def advance(to: float) -> None:
        """Run the worker's rounds up to ``to`` as its thread would (on the 2-s grid, idle ones sparser)."""
        nonlocal next_round
        while next_round <= to:
            clock.t = next_round
            worker.run_once()
            next_round += IDLE_ROUND
        clock.t = to

    def after_store() -> None:
        """The voting session calls ``wake`` after each store; a wake the worker accepts starts a round at once."""
        nonlocal next_round
        worker.wake()
        if worker._wake.is_set():  # the thread's wait ends now (sync/worker.py, _run)
            worker._wake.clear()
            worker.run_once()
            next_round = clock.t + ROUND
        else:  # the next round on the grid
            next_round = min(next_round, (clock.t // ROUND + 1) * ROUND)

    t = 60.0
    for i in range(VOTERS):
        t += rng.expovariate(1 / 110)
        advance(t)
        civil = str(FIRST_VOTER + i)
        answer: CheckinResponse = client.checkin(
            CheckinRequest(
                kiosk_id=KIOSK_ID, centre_id=CENTRE_ID, civil_number=civil, idempotency_key=secrets.token_hex(16)
            )
        )
        assert answer.checkin_token is not None and answer.ballot_style_id is not None
        token = answer.checkin_token
        checkin_at[civil], civil_of_token[token] = clock.t, civil
        box.record_checkin(token, answer.ballot_style_id)
        t += rng.uniform(60, 240)
        advance(t)
        if rng.random() < 0.04:
            box.release_checkin(token, ReleaseReason.CARD_REMOVED)
            released.add(civil)
            continue
        if rng.random() < 0.05:  # a Benaloh challenge: spoiled, chained, published; then the real vote
            box.record_challenge(challenged(box, election))
            after_store()
            t += rng.uniform(30, 90)
            advance(t)
        ballot = chained(box, election.encrypt())
        box.cast(token, ballot)
        truth[civil] = ballot.ballot_id
        after_store()
        t += 1.0
    advance(t + 3 * ROUND)
    box.apply(PollsAction.CLOSE, CHAIR)
    for _ in range(3):
        clock.t += ROUND
        worker.run_once()
    client.close()
    return Day(client.messages, truth, checkin_at, civil_of_token, released)


def challenged(box: BallotBox, election: RealElection) -> BallotToStore:
    """A Benaloh-challenged ballot as the session hands it over: the ballot and its revealed seed, chained."""
    seed = secrets.token_bytes(32)
    plain = random_plaintext(election.manifest, BallotStyleId(STYLE), os.urandom)
    ballot = encrypt_ballot(election.context, election.manifest, plain, ballot_id=secrets.token_hex(16), seed=seed)
    code = confirmation_code(bytes.fromhex(box.genesis), KIOSK_ID, ballot)
    return BallotToStore(ballot.ballot_id, STYLE, code.hex(), challenge_ballot(ballot, seed).to_dict())


# ---- what the office saw ------------------------------------------------------------------------------------


@dataclass
class Seen:
    """The office's view, built only from the recorded messages."""

    checkins: list[tuple[float, str]]  # (time, civil) of eligible check-ins, in arrival order
    released: set[str]
    batches: list[tuple[float, list[dict[str, Any]]]]  # (arrival, ballots in body order), first arrival each
    ballot_first_seen: dict[str, float]
    audit_ballot_seq: dict[str, int]  # ballot id -> 1000 x seq of the audit entry naming it + its place in it
    audit_seen_at: dict[str, float]
    voted_marks: list[tuple[float, str]]  # (time, civil)
    heartbeats: list[tuple[float, dict[str, Any]]]

    @property
    def cast_voters(self) -> list[str]:
        """Voters the office knows cast (a voted mark arrived), in check-in order."""
        marked = {c for _, c in self.voted_marks}
        return [c for _, c in self.checkins if c in marked]

    def all_ballots(self) -> list[str]:
        return [b["ballot_id"] for _, body in self.batches for b in body if b["disposition"] == "cast"]


def what_the_office_saw(day: Day) -> Seen:
    checkins: list[tuple[float, str]] = []
    batches: dict[str, tuple[float, list[dict[str, Any]]]] = {}
    first_seen: dict[str, float] = {}
    audit_seq: dict[str, int] = {}
    audit_at: dict[str, float] = {}
    marks: list[tuple[float, str]] = []
    beats: list[tuple[float, dict[str, Any]]] = []
    released: set[str] = set()
    token_civil: dict[str, str] = {}
    for m in day.messages:
        if m.name == "checkin" and m.answer and m.answer.get("checkin_token"):
            checkins.append((m.at, m.body["civil_number"]))
            token_civil[m.answer["checkin_token"]] = m.body["civil_number"]
        elif m.name == "voted" and m.token:
            marks.append((m.at, token_civil[m.token]))
        elif m.name == "release" and m.token:
            released.add(token_civil[m.token])
        elif m.name == "batch" and m.body["batch_id"] not in batches:
            batches[m.body["batch_id"]] = (m.at, m.body["ballots"])
            for b in m.body["ballots"]:
                first_seen.setdefault(b["ballot_id"], m.at)
        elif m.name == "audit_segment":
            for e in m.body["entries"]:
                named = [e["payload"].get("ballot_id")] + [b.get("ballot_id") for b in e["payload"].get("ballots", [])]
                for n, ballot in enumerate(named):  # a batch_sealed entry names its ballots in its listed order
                    if isinstance(ballot, str):
                        audit_seq.setdefault(ballot, e["seq"] * 1000 + n)
                        audit_at.setdefault(ballot, m.at)
                        first_seen[ballot] = min(first_seen.get(ballot, m.at), m.at)
        elif m.name == "heartbeat":
            beats.append((m.at, m.body))
    ordered = sorted(batches.values(), key=lambda b: b[0])
    return Seen(checkins, released, ordered, first_seen, audit_seq, audit_at, marks, beats)


# ---- linking strategies: each maps a voter to {ballot id: probability} -------------------------------------------

Guess = dict[str, dict[str, float]]


def one_to_one(voters: list[str], ballots: list[str]) -> Guess:
    return {v: {b: 1.0} for v, b in zip(voters, ballots, strict=False)}


def chain_order(seen: Seen) -> list[str]:
    """The kiosk's cast ballots in the published chain's order: its batches in order, each batch's links sorted by
    confirmation code (docs/election-record.md); nothing in a ballot names another (no previous code)."""
    assert all("previous_code" not in b for _, body in seen.batches for b in body)
    order: list[str] = []
    for _, body in seen.batches:
        order += [
            b["ballot_id"] for b in sorted(body, key=lambda b: b["confirmation_code"]) if b["disposition"] == "cast"
        ]
    return order


def s_order_chain(seen: Seen) -> Guess:
    return one_to_one(seen.cast_voters, chain_order(seen))


def s_order_audit(seen: Seen) -> Guess:
    cast = set(seen.all_ballots())
    return one_to_one(
        seen.cast_voters,
        sorted((b for b in seen.audit_ballot_seq if b in cast), key=lambda b: seen.audit_ballot_seq[b]),
    )


def s_arrival_order(seen: Seen) -> Guess:
    """Ballots in the order they arrived (batch by batch, body order inside) against voters in check-in order."""
    return one_to_one(seen.cast_voters, seen.all_ballots())


def s_first_seen_after_checkin(seen: Seen) -> Guess:
    """Each voter, in check-in order, takes the not yet taken ballot first seen soonest after their check-in
    (a batch or an audit entry naming it); ties by arrival position."""
    at = {c: t for t, c in seen.checkins}
    cast = seen.all_ballots()
    pos = {b: i for i, b in enumerate(cast)}
    free = sorted(cast, key=lambda b: (seen.ballot_first_seen.get(b, float("inf")), pos[b]))
    guess: Guess = {}
    for v in seen.cast_voters:
        pick = next((b for b in free if seen.ballot_first_seen.get(b, float("inf")) >= at[v]), None)
        if pick is not None:
            free.remove(pick)
            guess[v] = {pick: 1.0}
    return guess


def s_audit_entry_after_checkin(seen: Seen) -> Guess:
    """The audit segment that first arrives after a voter's check-in: its last ballot entry is theirs."""
    at = {c: t for t, c in seen.checkins}
    cast = set(seen.all_ballots())
    entries = sorted(
        (t, seq, b) for b, t in seen.audit_seen_at.items() if b in cast for seq in [seen.audit_ballot_seq[b]]
    )
    guess: Guess = {}
    for v in seen.cast_voters:
        after = [e for e in entries if e[0] >= at[v]]
        if after:
            first_time = after[0][0]
            same = [e for e in after if e[0] == first_time]
            guess[v] = {max(same, key=lambda e: e[1])[2]: 1.0}
    return guess


def batch_of_voter(seen: Seen, cast_time: Callable[[str], float]) -> dict[str, int]:
    """The batch a voter's ballot is in, guessed as the first batch to arrive after ``cast_time``."""
    out: dict[str, int] = {}
    for v in seen.cast_voters:
        for i, (t, _) in enumerate(seen.batches):
            if t >= cast_time(v):
                out[v] = i
                break
    return out


def s_batch_composition(seen: Seen) -> Guess:
    """Uniform over the cast ballots of the first batch to arrive after the voter's check-in."""
    at = {c: t for t, c in seen.checkins}
    guess: Guess = {}
    for v, i in batch_of_voter(seen, lambda v: at[v]).items():
        cast = [b["ballot_id"] for b in seen.batches[i][1] if b["disposition"] == "cast"]
        guess[v] = {b: 1 / len(cast) for b in cast}
    return guess


def _changes(seen: Seen, value: Callable[[dict[str, Any]], int]) -> list[float]:
    out, last = [], None
    for t, body in seen.heartbeats:
        v = value(body)
        if last is not None and v != last:
            out.append(t)
        last = v
    return out


def s_heartbeat_counts(seen: Seen) -> Guess:
    """Heartbeat counts that change per cast date each cast; the voter's rank by that date within their batch
    is matched to the ballot's position in the batch body and to its audit-entry rank."""
    at = {c: t for t, c in seen.checkins}
    changes = sorted(
        set(_changes(seen, lambda b: int(b["audit_count"])))
        | set(_changes(seen, lambda b: int(b["backlog"]["unbatched_ballots"])))
        | set(_changes(seen, lambda b: int(b["backlog"]["pending_voted_marks"])))
    )

    def cast_time(v: str) -> float:
        return next((t for t in changes if t > at[v]), float("inf"))

    by_batch: dict[int, list[str]] = defaultdict(list)
    for v, i in batch_of_voter(seen, cast_time).items():
        by_batch[i].append(v)
    guess: Guess = {}
    for i, voters in by_batch.items():
        voters.sort(key=cast_time)
        cast = [b["ballot_id"] for b in seen.batches[i][1] if b["disposition"] == "cast"]
        guess.update(one_to_one(voters, cast))
    return guess


def s_voted_mark_order(seen: Seen) -> Guess:
    """Voted marks arrive in groups: the i-th mark of a group against the i-th ballot of the nearest batch."""
    groups: dict[float, list[str]] = defaultdict(list)
    for t, v in seen.voted_marks:
        groups[t - t % ROUND].append(v)
    guess: Guess = {}
    for t, voters in groups.items():
        nearest = min(seen.batches, key=lambda b: abs(b[0] - t))
        guess.update(one_to_one(voters, [b["ballot_id"] for b in nearest[1] if b["disposition"] == "cast"]))
    return guess


TRAFFIC_STRATEGIES: dict[str, Callable[[Seen], Guess]] = {
    "arrival order": s_arrival_order,
    "first seen after check-in (timing)": s_first_seen_after_checkin,
    "audit entry after check-in": s_audit_entry_after_checkin,
    "batch composition": s_batch_composition,
    "heartbeat counts": s_heartbeat_counts,
    "voted-mark order": s_voted_mark_order,
}
ORDER_STRATEGIES: dict[str, Callable[[Seen], Guess]] = {
    "chain order joined to check-in order": s_order_chain,
    "audit-log order joined to check-in order": s_order_audit,
}


def score(guess: Guess, truth: dict[str, str]) -> float:
    return sum(guess.get(v, {}).get(b, 0.0) for v, b in truth.items()) / len(truth)


# ---- the day ------------------------------------------------------------------------------------------------


@dataclass
class Result:
    day: Day
    seen: Seen
    scores: dict[str, float]
    chance: float


@pytest.fixture(scope="module")
def result(real_election: RealElection, pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Result]:
    work = tmp_path_factory.mktemp("office")
    office = CentralOffice(real_election, pg_database, work)
    office.initialise(roll(VOTERS, FIRST_VOTER))
    office.start()
    try:
        box = real_election.open_kiosk(work / "kiosk.db", min_batch=DEFAULT_MIN_BATCH)
        day = simulate_day(real_election, office, box, random.Random(hashlib.sha256(b"issue-15").digest()))
        box.close()
        office.stop(kill=False)  # flushes the office's log
        day.logs += office.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        yield measure(day)
    finally:
        office.close()


def measure(day: Day) -> Result:
    seen = what_the_office_saw(day)
    sizes = [sum(1 for b in body if b["disposition"] == "cast") for _, body in seen.batches]
    day.batch_sizes = sizes
    chance = sum(s * (1 / s) for s in sizes if s) / sum(sizes)  # = batches / ballots: the mean 1/size per voter
    scores = {name: score(s(seen), day.truth) for name, s in {**TRAFFIC_STRATEGIES, **ORDER_STRATEGIES}.items()}
    kinds: dict[str, int] = defaultdict(int)
    for m in day.messages:
        kinds[m.name] += 1
    print(f"\nmessages: {dict(kinds)}")
    print(f"secrecy: {len(day.truth)} voters cast, batches of {sorted(sizes)}, chance within a batch {chance:.3f}")
    for name, value in sorted(scores.items(), key=lambda kv: -kv[1]):
        print(f"  {value:.3f}  {name}")
    return Result(day, seen, scores, chance)


def test_the_day_reached_the_office_in_mixed_batches(result: Result) -> None:
    assert len(result.day.truth) >= 200
    assert set(result.seen.all_ballots()) == set(result.day.truth.values())
    assert set(result.seen.cast_voters) == set(result.day.truth)
    sizes = [len(body) for _, body in result.seen.batches]
    assert min(sizes[:-1]) >= DEFAULT_MIN_BATCH  # only the closing batch may be smaller


def test_no_traffic_strategy_links_a_voter_better_than_chance_within_a_batch(result: Result) -> None:
    traffic = {name: result.scores[name] for name in TRAFFIC_STRATEGIES}
    best = max(traffic, key=lambda n: traffic[n])
    bound = 1 / DEFAULT_MIN_BATCH + MARGIN
    assert traffic[best] <= bound, f"{best!r} links {traffic[best]:.3f} of voters (bound {bound:.3f}): {traffic}"


def test_no_message_names_a_ballot_before_its_batch_arrived(result: Result) -> None:
    batch_at = {b["ballot_id"]: t for t, body in result.seen.batches for b in body}
    early = sorted(b for b, t in result.seen.audit_seen_at.items() if b in batch_at and t < batch_at[b])
    assert not early, f"{len(early)} ballots named in audit segments before their batch arrived"


def test_heartbeats_carry_no_per_cast_counter(result: Result) -> None:
    values = {
        (b["audit_count"], b["backlog"]["unbatched_ballots"], b["backlog"]["pending_voted_marks"])
        for _, b in result.seen.heartbeats
        if b["polls_state"] == "open"
    }
    unbatched = {u for _, u, _ in values}
    marks = {m for _, _, m in values}
    assert unbatched <= {0, DEFAULT_MIN_BATCH} and marks <= {0, 10}, (sorted(unbatched), sorted(marks))


def test_no_log_of_the_day_names_a_voter(result: Result) -> None:
    """Every log line of the day, the kiosk's (sync worker, ballot box, client, at DEBUG) and the office's
    (``python -m central serve``), scanned for each voter's civil number and check-in token. (The card layer's
    own log, with names and certificates, is checked through pcscd in tests/card/test_no_voter_in_logs.py.)"""
    day = result.day
    assert len(day.logs) > 10  # the office's start-up and shutdown at least, and the worker's refusals if any
    markers = set(day.checkin_at) | set(day.civil_of_token)
    found = sorted({m for line in day.logs for m in markers if m in line})
    assert not found, f"{len(found)} voter identifiers in the logs, e.g. {found[:3]}"


def test_the_published_order_joined_to_the_live_check_in_order_links_no_better_than_chance(result: Result) -> None:
    """The batch chain (issue 15 point 2): neither the published chain's order nor the audit log's orders a batch's
    ballots, so joining either to the check-in order links a voter no better than chance within a batch."""
    order = {name: result.scores[name] for name in ORDER_STRATEGIES}
    print(f"order strategies: {order}; chance {result.chance:.3f}")
    assert max(order.values()) <= 1 / DEFAULT_MIN_BATCH + MARGIN, order
