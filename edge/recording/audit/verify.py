"""Check a whole audit log: every record's hash, every link to the record before, the sequence.

Each problem is reported where the chain breaks (line and seq) with what the evidence points to:
an edited record no longer matches its hash; an edited and re-hashed one breaks the next record's
link; a deleted one leaves a gap in the sequence; a moved or inserted one puts the sequence out of
order. After a break, checking goes on from the record found there, so every break is listed.

What a chain cannot show by itself: records cut off the end, or a log rewritten and re-hashed
from some record onward. An anchor (a head seq and hash kept elsewhere, e.g. published to the
centre) shows both; pass it as `anchor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge.recording.audit import tail
from edge.recording.audit.blobs import BlobStore
from edge.recording.audit.log import BLOBS_DIR, Head
from edge.recording.audit.records import FORMAT_VERSION, GENESIS, AuditRecord, UnreadableRecord, parse_line


@dataclass(frozen=True)
class Break:
    line: int
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" (seq {self.seq})" if self.seq is not None else "")
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class VerifyReport:
    path: Path
    records: int
    head: Head
    breaks: tuple[Break, ...]
    torn_bytes: int  # an unfinished last append; set aside when the log is next opened for writing
    damaged_blobs: tuple[str, ...]  # blob files whose bytes no longer match their name
    anchor_problem: str | None

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.damaged_blobs and self.anchor_problem is None


def verify_log(path: Path, anchor: Head | None = None) -> VerifyReport:
    """Read the log at `path` front to back. Raises OSError if it cannot be read."""
    breaks: list[Break] = []
    seen = _RecentRecords()
    last: AuditRecord | None = None
    records = 0
    hash_at_anchor: str | None = None
    lines, torn_bytes = tail.complete_lines(path)
    for number, raw in enumerate(lines, start=1):
        try:
            record = parse_line(raw)
        except UnreadableRecord as exc:
            breaks.append(Break(number, None, f"not a record: {exc}"))
            continue
        records += 1
        breaks += [Break(number, record.seq, p) for p in _problems(record, seen)]
        if raw != record.line().rstrip(b"\n"):
            # Same meaning, other bytes (a space, an escaped key, a reordered field): every record is
            # written in one canonical form, so any other form was written by someone else.
            breaks.append(Break(number, record.seq, "not in the canonical form every record is written in: "
                                                    "the line was rewritten"))
        seen.add(record, number)
        last = record
        if anchor is not None and record.seq == anchor.seq:
            hash_at_anchor = record.hash
    head = Head(last.seq, last.hash) if last else Head(0, GENESIS)
    blobs_root = path.parent / BLOBS_DIR
    damaged = tuple(str(b.path) for b in BlobStore(blobs_root).damaged()) if blobs_root.is_dir() else ()
    return VerifyReport(path, records, head, tuple(breaks), torn_bytes, damaged,
                        _anchor_problem(anchor, head, hash_at_anchor))


class _RecentRecords:
    """Hash and line of the most recent records by seq, so a record that arrives out of place is
    checked against the record it names as its predecessor wherever that one was; bounded so a
    long log verifies in constant memory."""

    WINDOW = 4096

    def __init__(self) -> None:
        self.max_seq = 0
        self._by_seq: dict[int, tuple[str, int]] = {0: (GENESIS, 0)}

    def add(self, record: AuditRecord, line: int) -> None:
        self._by_seq.pop(record.seq, None)
        self._by_seq[record.seq] = (record.hash, line)
        if len(self._by_seq) > self.WINDOW:
            del self._by_seq[next(iter(self._by_seq))]
        self.max_seq = max(self.max_seq, record.seq)

    def get(self, seq: int) -> tuple[str, int] | None:
        return self._by_seq.get(seq)


def _problems(record: AuditRecord, seen: _RecentRecords) -> list[str]:
    problems = []
    if record.v != FORMAT_VERSION:
        problems.append(f"format version {record.v}, expected {FORMAT_VERSION}")
    if not record.hash_matches():
        problems.append("content does not match its hash: the record was edited")
    want = seen.max_seq + 1
    earlier = seen.get(record.seq)
    if record.seq > want:
        missing = f"record {want} is" if record.seq == want + 1 else f"records {want}-{record.seq - 1} are"
        problems.append(f"seq {record.seq} where {want} was expected: {missing} missing here (deleted or moved)")
    elif earlier is not None and record.seq != 0:
        problems.append(f"seq {record.seq} already appeared at line {earlier[1]}: one of the two was inserted")
    elif record.seq < want:
        problems.append(f"seq {record.seq} follows seq {seen.max_seq}: out of order (moved)")
    before = seen.get(record.seq - 1)
    if before is not None and record.prev != before[0]:
        after = "the start of the log" if record.seq == 1 else f"seq {record.seq - 1} (line {before[1]})"
        problems.append(f"its prev does not match the hash of {after}: that record was edited and re-hashed, "
                        f"or this one was put in its place")
    return problems


def _anchor_problem(anchor: Head | None, head: Head, found: str | None) -> str | None:
    if anchor is None:
        return None
    if head.seq < anchor.seq:
        return (f"the log ends at seq {head.seq} but the anchor says seq {anchor.seq} was written: "
                f"records were removed from the end")
    if found != anchor.hash:
        return f"seq {anchor.seq} has hash {found}, the anchor says {anchor.hash}: the log was rewritten"
    return None
