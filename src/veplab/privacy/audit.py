"""Append-only, hash-chained audit log of who did what with a study's data.

Data-protection law asks controllers to be able to show how personal data
were processed (GDPR art. 5(2) accountability, art. 30 records, art. 32
security; Convention 108+ art. 10).  Each study keeps
``research/<study>/audit.log``: one JSON object per line, written by
:meth:`AuditLog.append` for loading data, pseudonymising, building and
releasing reports.

Line format (keys sorted, compact separators, UTF-8)::

    {"event":"load","fields":{...},"hash":"<64 hex>","prev":"<64 hex>","seq":3,
     "time":"2026-03-01T09:12:44.123456Z","user":"amina"}

* ``seq``: 1, 2, 3 ... ; ``time``: UTC, ISO 8601; ``user``: ``VEPLAB_USER``
  or the login name (``getpass.getuser()``);
* ``event``: one of :data:`EVENTS`; ``fields``: anything JSON-serialisable
  the caller records -- input file hashes (:func:`file_sha256`), rules
  applied, key id, output paths.  **Never data values**;
* ``hash``: SHA-256 of the line's canonical JSON without ``hash``;
  ``prev``: the previous line's ``hash`` (for the first line the genesis
  constant :data:`GENESIS`).

:func:`verify` recomputes every hash and link, so an edited, inserted,
removed or reordered line is found.  Removing the *last* lines leaves a valid
shorter chain; to detect that, every append also writes ``audit.head``
(``{"count": n, "hash": last hash}``) next to the log, and :func:`verify`
compares the log with it.  Someone who can rewrite both files can still
truncate both consistently: record :meth:`AuditLog.head` in the release
manifest (or anywhere outside the study folder) and pass it to
:func:`verify` as ``anchor`` -- the only protection against a fully
privileged editor.  ``veplab build`` records it as ``audit_head`` in
``reports/<study>/manifest.json`` (and the release log in ``release.json``);
``veplab audit verify`` checks the log against those (:func:`read_anchor`)
and any ``--anchor FILE``.  Hash chains show tampering; they do not prevent it.

:func:`pseudonym_key_ids` and :func:`current_key_id` read which keys (by key
id, never the key) the study's pseudonyms were made with; ``veplab
pseudonymise --study`` refuses a different key unless the change is declared
(``--new-key --reason``) and written to the log as a ``key`` event.

Appends take an exclusive ``fcntl`` lock on the log, so concurrent builds
cannot interleave or fork the chain (POSIX only).

>>> log = AuditLog("research/demo/audit.log")                        # doctest: +SKIP
>>> log.append("load", inputs={"data/wave1.csv": file_sha256("data/wave1.csv")},
...            rules=["identifier gate", "codebook push_pull_v1"])   # doctest: +SKIP
>>> verify("research/demo/audit.log")                                # doctest: +SKIP
[]

References
----------
Haber S, Stornetta WS (1991). How to time-stamp a digital document. Journal of Cryptology
3(2), 99-111 (hash-linked records).
Schneier B, Kelsey J (1999). Secure audit logs to support computer forensics. ACM
Transactions on Information and System Security 2(2), 159-176.
NIST (2015). FIPS PUB 180-4: Secure Hash Standard (SHS) (SHA-256).
Regulation (EU) 2016/679 (General Data Protection Regulation), art. 5(2) (accountability)
and art. 30 (records of processing).
docs/DESIGN.md, section "Privacy" (every published output is in the release log).
"""

from __future__ import annotations

import datetime as _dt
import getpass
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._validate import InputError, check_choice

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "GENESIS", "EVENTS", "AuditLog", "AuditError", "verify", "file_sha256", "read_anchor", "pseudonym_key_ids",
    "current_key_id",
]

#: ``prev`` of the first line.
GENESIS: str = hashlib.sha256(b"veplab-audit-log-genesis-v1").hexdigest()
#: Event types an audit line may record.
EVENTS: tuple[str, ...] = (
    "load", "pseudonymise", "build", "release", "access", "export", "delete", "key", "note",
)


class AuditError(InputError):
    """The audit log cannot be appended to (damaged, or bad fields)."""


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks of 1 MiB.

    The digest recorded for input and output files in the audit log and the
    manifests: the same bytes always give the same 64 hex digits, and any
    change to the file changes them.

    Parameters
    ----------
    path:
        The file.

    Returns
    -------
    str
        64 lower-case hex digits.

    References
    ----------
    NIST (2015). FIPS PUB 180-4: Secure Hash Standard (SHS), section 6.2 (SHA-256).

    Examples
    --------
    The FIPS 180-4 test message ``"abc"``:

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "data.csv")
    ...     with open(path, "wb") as fh:
    ...         _ = fh.write(b"abc")
    ...     print(file_sha256(path))
    ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canonical(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _line_hash(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def _jsonable(value: Any, where: str) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            raise AuditError(f"audit field {where} is not a finite number")
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v, where) for v in value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _jsonable(value.item(), where)
    raise AuditError(f"audit field {where} of type {type(value).__name__} cannot be written as JSON; pass text or numbers")


def _user() -> str:
    user = os.environ.get("VEPLAB_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no login name (containers)
        return "unknown"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _last_line(fh: Any) -> bytes | None:
    """The last non-empty line of a binary file opened for reading."""
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    if end == 0:
        return None
    block = 4096
    pos = end
    buf = b""
    while pos > 0:
        step = min(block, pos)
        pos -= step
        fh.seek(pos)
        buf = fh.read(step) + buf
        stripped = buf.rstrip(b"\n")
        if b"\n" in stripped:
            return stripped.rsplit(b"\n", 1)[1]
    stripped = buf.rstrip(b"\n")
    return stripped or None


def _head_path(path: Path) -> Path:
    name = path.name
    stem = name[: -len(".log")] if name.endswith(".log") else name
    return path.with_name(stem + ".head")


class AuditLog:
    """The audit log of one study (``research/<study>/audit.log``).

    ``AuditLog(path).append(event, **fields)`` adds a line and returns the
    record written; :meth:`head` gives the anchor to store in a manifest;
    :meth:`verify` checks the whole chain.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.head_path = _head_path(self.path)

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one event (under an exclusive lock) and update ``audit.head``.

        ``fields`` must be JSON-serialisable (paths become text, sets sorted
        lists).  Raises :class:`AuditError` if the log's last line is damaged
        (run :func:`verify` and restore the log from backup) or a field cannot
        be written.
        """
        check_choice(event, "event", EVENTS)
        payload = _jsonable(dict(fields), "fields")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        with os.fdopen(fd, "a+b") as fh:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                last = _last_line(fh)
                if last is None:
                    prev, seq = GENESIS, 1
                else:
                    try:
                        rec = json.loads(last.decode("utf-8"))
                        prev, seq = str(rec["hash"]), int(rec["seq"]) + 1
                    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                        raise AuditError(
                            f"the last line of {str(self.path)!r} is damaged; run veplab.privacy.audit.verify and "
                            "restore the log from a backup before appending"
                        ) from None
                record: dict[str, Any] = {
                    "seq": seq,
                    "time": _now(),
                    "user": _user(),
                    "event": event,
                    "fields": payload,
                    "prev": prev,
                }
                record["hash"] = _line_hash(record)
                fh.seek(0, os.SEEK_END)
                fh.write((_canonical(record) + "\n").encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
                self._write_head(seq, record["hash"])
            finally:
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return record

    def _write_head(self, count: int, last_hash: str) -> None:
        tmp = self.head_path.with_name(self.head_path.name + ".tmp")
        tmp.write_text(_canonical({"count": count, "hash": last_hash}) + "\n", encoding="utf-8")
        os.replace(tmp, self.head_path)

    def head(self) -> dict[str, Any]:
        """``{"count": lines, "hash": last hash}`` -- record it in the release manifest."""
        count, last = 0, GENESIS
        if self.path.exists():
            with open(self.path, "rb") as fh:
                line = _last_line(fh)
            if line is not None:
                rec = json.loads(line.decode("utf-8"))
                count, last = int(rec["seq"]), str(rec["hash"])
        return {"count": count, "hash": last}

    def verify(self, *, anchor: Mapping[str, Any] | None = None) -> list[str]:
        """Problems found in the log (empty list when intact); see :func:`verify`."""
        return verify(self.path, anchor=anchor)


def verify(
    path: str | os.PathLike[str],
    *,
    anchor: Mapping[str, Any] | Sequence[Any] | None = None,
    anchors: Mapping[str, Mapping[str, Any] | Sequence[Any]] | None = None,
) -> list[str]:
    """Check an audit log; return a list of problems (empty when intact).

    Every line must satisfy::

        hash_i = SHA-256(canonical JSON of line i without "hash")
        prev_i = hash_(i-1)   (prev_1 = GENESIS),   seq_i = i

    so a line that was edited (hash mismatch, or not in canonical form),
    inserted, removed or reordered (broken ``prev`` link or ``seq``) is found;
    so are lines removed at the end (fewer lines than ``audit.head`` records,
    or than ``anchor``), a missing head file, and an ``anchor`` -- ``{"count":
    n, "hash": h}`` or ``(n, h)`` from a manifest -- that the log no longer
    contains.  The log may have grown after an anchor was taken: the check is
    that line ``n`` has hash ``h``.  Problems name line numbers, never field
    values.

    Parameters
    ----------
    path:
        The log (``research/<study>/audit.log``).
    anchor:
        An audit head recorded elsewhere (:meth:`AuditLog.head`, :func:`read_anchor`).
    anchors:
        ``{name: anchor}``, each checked like ``anchor`` (the name appears in the problems).

    Returns
    -------
    list of str
        Problems found; ``[]`` when the chain is intact.

    References
    ----------
    Haber & Stornetta (1991) and Schneier & Kelsey (1999): hash-linked, append-only logs;
    the full list is in the References of :mod:`veplab.privacy.audit`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     log = AuditLog(Path(d, "audit.log"))
    ...     _ = log.append("load", inputs={"wave1.csv": "ba7816bf"}, rules=["identifier gate"])
    ...     _ = log.append("build", outputs=["report.html"])
    ...     head = log.head()
    ...     print(verify(log.path), verify(log.path, anchor=head))
    ...     lines = log.path.read_text().splitlines()
    ...     _ = log.path.write_text(lines[0].replace("wave1", "wave2") + "\\n" + lines[1] + "\\n")
    ...     print(verify(log.path))
    [] []
    ['line 1: content does not match its hash (the line was edited)']
    """
    p = Path(path)
    problems: list[str] = []
    if not p.exists():
        return [f"{str(p)!r} does not exist"]
    prev = GENESIS
    count = 0
    hashes: dict[int, str] = {}
    with open(p, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            count = lineno
            line = raw.rstrip(b"\n")
            try:
                text = line.decode("utf-8")
                rec = json.loads(text)
            except (UnicodeDecodeError, ValueError):
                problems.append(f"line {lineno}: not a valid JSON record (edited or damaged)")
                prev = ""
                continue
            if not isinstance(rec, dict) or not {"seq", "time", "user", "event", "fields", "prev", "hash"} <= set(rec):
                problems.append(f"line {lineno}: missing fields (edited or not an audit record)")
                prev = ""
                continue
            if _line_hash(rec) != rec["hash"]:
                problems.append(f"line {lineno}: content does not match its hash (the line was edited)")
            elif _canonical(rec) != text:
                problems.append(f"line {lineno}: not in canonical form (the line was re-written)")
            if rec["seq"] != lineno:
                problems.append(
                    f"line {lineno}: has sequence number {rec['seq']} (lines were removed, inserted or reordered)"
                )
            if prev and rec["prev"] != prev:
                problems.append(
                    f"line {lineno}: does not link to the line before it (a line was removed, inserted or "
                    "reordered here)"
                )
            prev = str(rec["hash"])
            hashes[lineno] = prev
    head_file = _head_path(p)
    if head_file.exists():
        try:
            head = json.loads(head_file.read_text(encoding="utf-8"))
            hc, hh = int(head["count"]), str(head["hash"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"{head_file.name}: damaged (cannot check for lines removed at the end)")
        else:
            problems.extend(_check_anchor(count, hashes, hc, hh, head_file.name))
    elif count:
        problems.append(
            f"{head_file.name} is missing: lines removed from the end of the log cannot be detected (record the "
            "log's head in the release manifest)"
        )
    named: list[tuple[str, Any]] = [] if anchor is None else [("the anchor", anchor)]
    named += [(f"the anchor {name}", a) for name, a in (anchors or {}).items()]
    for what, a in named:
        try:
            ac, ah = _anchor_pair(a)
        except AuditError as exc:
            problems.append(f"{what}: {exc}")
            continue
        problems.extend(_check_anchor(count, hashes, ac, ah, what, exact=False))
    return problems


def _anchor_pair(anchor: Any) -> tuple[int, str]:
    """``(count, hash)`` of an anchor given as ``{"count", "hash"}`` or ``(count, hash)``."""
    if isinstance(anchor, Mapping):
        if not {"count", "hash"} <= set(anchor):
            raise AuditError("not an audit head: it needs count and hash")
        count, digest = anchor["count"], anchor["hash"]
    elif isinstance(anchor, Sequence) and not isinstance(anchor, str) and len(anchor) == 2:
        count, digest = anchor
    else:
        raise AuditError("not an audit head: give {\"count\": n, \"hash\": h} or (n, h)")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise AuditError(f"count must be a whole number >= 0, got {count!r}")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise AuditError("hash must be 64 lower-case hex digits (SHA-256)")
    return count, digest


def _check_anchor(count: int, hashes: Mapping[int, str], ac: int, ah: str, what: str, *,
                  exact: bool = True) -> list[str]:
    if count < ac:
        return [f"the log has {count} lines but {what} records {ac}: lines were removed from the end"]
    if ac == 0:
        return [] if ah == GENESIS else [f"{what} is inconsistent (no lines but a hash)"]
    if hashes.get(ac) != ah:
        return [f"line {ac}: differs from the line {what} recorded (the log was rewritten)"]
    if exact and count > ac:
        return [f"the log has {count} lines but {what} records {ac}: lines appended without updating the head"]
    return []


def read_anchor(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """The audit head ``{"count": n, "hash": h}`` recorded outside the log.

    ``source`` is a JSON file (or its parsed content): a report's
    ``manifest.json`` or ``release.json`` (their top-level ``audit_head``), or
    a bare ``{"count": n, "hash": h}`` as :meth:`AuditLog.head` returns.  The
    count must be a whole number >= 0 and the hash 64 lower-case hex digits
    (a SHA-256 digest).

    Parameters
    ----------
    source:
        A path to a JSON file, or its parsed content.

    Returns
    -------
    dict
        ``{"count": n, "hash": h}``, ready for :func:`verify`'s ``anchor``.

    Raises
    ------
    AuditError
        Naming the file when it is missing, unreadable or holds no audit head.

    References
    ----------
    Haber & Stornetta (1991) and Schneier & Kelsey (1999): hash-linked, append-only logs;
    the full list is in the References of :mod:`veplab.privacy.audit`.
    Bray T (ed.) (2017). RFC 8259: The JavaScript Object Notation (JSON) Data Interchange
    Format. IETF.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     log = AuditLog(Path(d, "audit.log"))
    ...     _ = log.append("build", outputs=["report.html"])
    ...     _ = Path(d, "manifest.json").write_text(json.dumps({"audit_head": log.head()}))
    ...     anchor = read_anchor(Path(d, "manifest.json"))
    ...     print(anchor["count"], anchor == log.head(), verify(log.path, anchor=anchor))
    1 True []
    >>> read_anchor({"count": 1})
    Traceback (most recent call last):
    ...
    veplab.privacy.audit.AuditError: anchor the anchor: not an audit head: it needs count and hash (expected a manifest.json or release.json with audit_head, or {"count": n, "hash": h})
    """
    if isinstance(source, Mapping):
        name, data = "the anchor", source
    else:
        p = Path(source)
        name = str(p)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AuditError(f"anchor {name}: file not found") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise AuditError(f"anchor {name}: not a readable JSON file ({exc.__class__.__name__})") from None
    if isinstance(data, Mapping) and "audit_head" in data:
        data = data["audit_head"]
    try:
        count, digest = _anchor_pair(data)
    except AuditError as exc:
        raise AuditError(f"anchor {name}: {exc} (expected a manifest.json or release.json with audit_head, or "
                         "{\"count\": n, \"hash\": h})") from None
    return {"count": count, "hash": digest}


def _records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The log's records that parse (damaged lines skipped: :func:`verify` reports them)."""
    p = Path(path)
    out: list[dict[str, Any]] = []
    if not p.is_file():
        return out
    for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def pseudonym_key_ids(path: str | os.PathLike[str]) -> list[str]:
    """Key ids of the pseudonymisation runs recorded in an audit log, first use first (never the keys).

    The ``key_id`` field (:func:`veplab.privacy.pseudonyms.key_id`) of every
    ``pseudonymise`` event, each once, in the order first used.  More than one
    means the study's data were pseudonymised with different keys, and ids do
    not link across those files.  Damaged lines are skipped (:func:`verify`
    reports them); a missing log gives ``[]``.

    Parameters
    ----------
    path:
        The log.

    Returns
    -------
    list of str

    References
    ----------
    Haber & Stornetta (1991) and Schneier & Kelsey (1999): hash-linked, append-only logs;
    the full list is in the References of :mod:`veplab.privacy.audit`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     log = AuditLog(Path(d, "audit.log"))
    ...     _ = log.append("pseudonymise", key_id="296b9b7d60616909", rows=412)
    ...     _ = log.append("pseudonymise", key_id="296b9b7d60616909", rows=398)
    ...     _ = log.append("pseudonymise", key_id="905cd751b95e1aee", rows=50)
    ...     print(pseudonym_key_ids(log.path))
    ['296b9b7d60616909', '905cd751b95e1aee']
    """
    out: list[str] = []
    for rec in _records(path):
        fields = rec.get("fields")
        kid = fields.get("key_id") if isinstance(fields, Mapping) else None
        if rec.get("event") == "pseudonymise" and kid and kid not in out:
            out.append(kid)
    return out


def current_key_id(path: str | os.PathLike[str]) -> str | None:
    """The key id the study's pseudonyms are made with now.

    That of the last ``pseudonymise`` run, or the ``new_key_id`` of a later
    ``key`` event (a declared key change, ``veplab pseudonymise --new-key
    --reason``); ``None`` when the log records neither.  ``veplab pseudonymise
    --study`` refuses any other key.

    Parameters
    ----------
    path:
        The log.

    Returns
    -------
    str or None

    References
    ----------
    Haber & Stornetta (1991) and Schneier & Kelsey (1999): hash-linked, append-only logs;
    the full list is in the References of :mod:`veplab.privacy.audit`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     log = AuditLog(Path(d, "audit.log"))
    ...     print(current_key_id(log.path))
    ...     _ = log.append("pseudonymise", key_id="296b9b7d60616909")
    ...     print(current_key_id(log.path))
    ...     _ = log.append("key", new_key_id="905cd751b95e1aee", reason="key retired")
    ...     print(current_key_id(log.path))
    None
    296b9b7d60616909
    905cd751b95e1aee
    """
    current = None
    for rec in _records(path):
        fields = rec.get("fields")
        if not isinstance(fields, Mapping):
            continue
        if rec.get("event") == "pseudonymise" and fields.get("key_id"):
            current = str(fields["key_id"])
        elif rec.get("event") == "key" and fields.get("new_key_id"):
            current = str(fields["new_key_id"])
    return current
