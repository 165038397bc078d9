"""Read-only SQL sources: assessment records kept in a PostgreSQL database.

Prison services often keep risk-and-needs assessments in a database rather
than in exports.  A study can name a query instead of a file::

    sources:
      rna:
        sql: |
          SELECT rating_id, case_id, assessor, assessed_on, g1, g2, g3
          FROM assessments WHERE assessed_on >= '2024-01-01'
          ORDER BY rating_id
        url_env: VEPLAB_DB_URL        # the environment variable holding the URL
        codebook: rna_tool

and the rows go through :func:`veplab.data.load` with the same codebook
validation as any export.  Safety rules:

* the query must be **one** ``SELECT`` (or ``WITH ... SELECT``) statement:
  anything else -- several statements, ``INSERT``/``UPDATE``/``DELETE``,
  DDL, ``SELECT ... INTO``, ``FOR UPDATE`` locks, ``set_config()`` -- is
  refused with a clear error before connecting;
* it runs inside a ``READ ONLY`` transaction (``SET TRANSACTION READ ONLY``,
  checked with ``SHOW transaction_read_only``) that is rolled back, with a
  statement timeout (default 300 s);
* the connection URL (``postgresql://user@host:5432/db``) comes from the
  environment variable named by ``url_env``; ``study.yml`` never holds it.
  Keep the password out of the URL too where you can (``~/.pgpass`` or
  ``PGPASSWORD``), and give veplab a database role that can only read.

The manifest records the query and a SHA-256 of its result
(:func:`source_digest`): the *canonical CSV* of the result -- UTF-8, a header
row with the column names, ``\\N`` for NULL, booleans ``true``/``false``,
dates and times in ISO 8601, numbers as PostgreSQL gives them (Python
``repr`` for floats), JSON sorted, rows in the order the query returns them
(so queries should end with ``ORDER BY``; a warning says so when they don't).

Needs SQLAlchemy 2 and psycopg 3 (``pip install sqlalchemy "psycopg[binary]"``).

>>> q = SQLQuery("SELECT * FROM assessments ORDER BY rating_id", url_env="VEPLAB_DB_URL")  # doctest: +SKIP
>>> df = veplab.data.load(q, "surveys/rna_tool.yml")                                       # doctest: +SKIP
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import decimal
import hashlib
import io
import json
import os
import re
import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..data.problems import DataError, Problems
from ..data.readers import RawTable

__all__ = ["SQLQuery", "SQLSourceError", "canonical_csv", "check_query", "run_query", "source_digest"]

DEFAULT_TIMEOUT = 300.0
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WRITE_WORDS = {"insert", "update", "delete", "merge", "truncate", "drop", "alter", "create", "grant", "revoke",
                "into", "copy", "vacuum", "reindex", "cluster", "comment", "security", "refresh", "listen",
                "notify", "unlisten", "discard", "checkpoint"}
_FUNCTIONS = {"set_config", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
              "lo_import", "lo_export", "lo_unlink", "lo_create", "lo_put", "dblink", "dblink_exec",
              "dblink_connect", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file",
              "pg_advisory_lock", "pg_advisory_xact_lock", "nextval", "setval"}


class SQLSourceError(ValueError):
    """A SQL source that cannot be run: a refused query, a missing URL, a failed connection."""


# --------------------------------------------------------------------------- the query text


def _string_end(sql: str, j: int, escapes: bool) -> int:
    """Index of the quote closing a string literal whose body starts at ``j``
    (``''`` is an escaped quote; with ``escapes`` so is a backslash)."""
    n = len(sql)
    while j < n:
        if escapes and sql[j] == "\\":
            j += 2
            continue
        if sql[j] == "'":
            if j + 1 < n and sql[j + 1] == "'":
                j += 2
                continue
            return j
        j += 1
    raise SQLSourceError("the query has an unclosed string")


def _scan(sql: str) -> list[tuple[str, str]]:
    """Lex ``sql`` into (kind, text) for kinds word, punct, string, ident, number, param; comments dropped.

    Knows PostgreSQL's ``--`` and nested ``/* */`` comments, ``'...'`` and
    ``E'...'`` strings, ``$tag$...$tag$`` dollar quoting and ``"..."``
    identifiers, so that a semicolon or keyword inside them is not mistaken
    for SQL."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise SQLSourceError("the query has an unclosed /* comment")
            i = j
        elif (ch in "eE" and i + 1 < n and sql[i + 1] == "'") or ch == "'":
            escapes = ch != "'"  # E'...' strings take backslash escapes
            j = _string_end(sql, i + (2 if escapes else 1), escapes)
            out.append(("string", sql[i:j + 1]))
            i = j + 1
        elif ch == '"':
            j = sql.find('"', i + 1)
            while j >= 0 and j + 1 < n and sql[j + 1] == '"':
                j = sql.find('"', j + 2)
            if j < 0:
                raise SQLSourceError('the query has an unclosed "quoted identifier"')
            out.append(("ident", sql[i:j + 1]))
            i = j + 1
        elif ch == "$":
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
            if m:
                tag = m.group(0)
                j = sql.find(tag, i + len(tag))
                if j < 0:
                    raise SQLSourceError(f"the query has an unclosed {tag} quoted string")
                out.append(("string", sql[i:j + len(tag)]))
                i = j + len(tag)
            else:
                m = re.match(r"\$\d+", sql[i:])
                out.append(("param", m.group(0) if m else "$"))
                i += len(m.group(0)) if m else 1
        elif ch.isalpha() or ch == "_":
            m = re.match(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*", sql[i:])
            word = m.group(0) if m else ch  # every letter below U+0080 is A-Z or a-z: m always matches
            out.append(("word", word))
            i += len(word)
        elif ch.isdigit():
            m = re.match(r"\d+(\.\d*)?([eE][+-]?\d+)?", sql[i:])
            if m is None:  # a digit that is no decimal digit, such as a superscript two
                out.append(("punct", ch))
                i += 1
                continue
            out.append(("number", m.group(0)))
            i += len(m.group(0))
        else:
            out.append(("punct", ch))
            i += 1
    return out


def check_query(sql: str) -> str:
    r"""The query, stripped of a trailing ``;``, when it is one read-only ``SELECT``/``WITH`` statement.

    Raises :class:`SQLSourceError` naming what is refused otherwise: several
    statements, a first word other than ``SELECT``/``WITH``, any word that
    writes (``INSERT``, ``UPDATE``, ``DELETE``, DDL, ``SELECT ... INTO``,
    ``COPY``...), ``FOR UPDATE``/``FOR SHARE`` locks, and functions with side
    effects (``set_config()``, ``pg_read_file()``, ``nextval()``...).  Words
    inside string literals, quoted identifiers and comments are not read as
    keywords.  The check runs before any connection is made; the
    ``READ ONLY`` transaction of :func:`run_query` is the second line of
    defence.

    Parameters
    ----------
    sql : str
        The query text of a study's SQL source.

    Returns
    -------
    str

    Raises
    ------
    SQLSourceError

    References
    ----------
    PostgreSQL 16 documentation (2023), "SQL Commands: SELECT" and "Lexical
    Structure" (identifiers, string constants, comments),
    https://www.postgresql.org/docs/16/.

    Examples
    --------
    >>> check_query("SELECT * FROM assessments ORDER BY id;")
    'SELECT * FROM assessments ORDER BY id'
    >>> check_query("SELECT 'drop table' AS note, \"update\" FROM t")
    'SELECT \'drop table\' AS note, "update" FROM t'
    >>> check_query("DELETE FROM assessments")
    Traceback (most recent call last):
    ...
    veplab.ingest.sql.SQLSourceError: only a single SELECT (or WITH ... SELECT) query may be used as a data source; this one starts with DELETE
    """
    if not isinstance(sql, str) or not sql.strip():
        raise SQLSourceError("the SQL query is empty; give one SELECT statement")
    toks = _scan(sql)
    # statements
    parts: list[list[tuple[str, str]]] = [[]]
    for t in toks:
        if t == ("punct", ";"):
            parts.append([])
        else:
            parts[-1].append(t)
    statements = [p for p in parts if p]
    if len(statements) != 1:
        raise SQLSourceError(f"the SQL source holds {len(statements)} statements; give exactly one SELECT query "
                             "(no ';' between statements)")
    stmt = statements[0]
    first = next((t for t in stmt if t != ("punct", "(")), ("", ""))
    if first[0] != "word" or first[1].lower() not in ("select", "with"):
        raise SQLSourceError("only a single SELECT (or WITH ... SELECT) query may be used as a data source; "
                             f"this one starts with {first[1].upper() or 'nothing'}")
    words = [(k, t.lower()) for k, t in stmt]
    for pos, (kind, word) in enumerate(words):
        if kind != "word":
            continue
        if word in _WRITE_WORDS:
            what = "SELECT ... INTO creates a table" if word == "into" else f"{word.upper()} changes the database"
            raise SQLSourceError(f"the query is refused: {what}; a data source may only read (quote a column "
                                 f"named {word!r} as \"{word}\")")
        if word == "for" and pos + 1 < len(words) and words[pos + 1][1] in ("update", "share", "no", "key"):
            raise SQLSourceError("the query is refused: FOR UPDATE / FOR SHARE lock rows; a data source may only read")
        if word in _FUNCTIONS and pos + 1 < len(words) and words[pos + 1] == ("punct", "("):
            raise SQLSourceError(f"the query is refused: {word}() is not allowed in a data source")
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def has_order_by(sql: str) -> bool:
    """Whether the outermost query ends in an ``ORDER BY`` (rows come in a stable order)."""
    depth = 0
    last = None
    toks = _scan(sql)
    for k, (kind, text) in enumerate(toks):
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif depth == 0 and kind == "word" and text.lower() == "order" and k + 1 < len(toks) and \
                toks[k + 1][1].lower() == "by":
            last = k
        elif depth == 0 and kind == "word" and text.lower() in ("union", "intersect", "except"):
            last = None
    return last is not None


# --------------------------------------------------------------------------- running it


def connection_url(url_env: str) -> str:
    """The database URL held by the environment variable ``url_env`` (psycopg 3 driver)."""
    if not isinstance(url_env, str) or not _ENV_NAME.match(url_env):
        raise SQLSourceError(f"url_env must name an environment variable (letters, digits, underscores), "
                             f"got {url_env!r}")
    url = os.environ.get(url_env, "").strip()
    if not url:
        raise SQLSourceError(f"environment variable {url_env} is not set; set it to the database URL, e.g. "
                             f"export {url_env}=postgresql://reader@dbhost:5432/assessments (password in "
                             "~/.pgpass or PGPASSWORD, never in study.yml)")
    m = re.match(r"^(postgres|postgresql)(\+[a-z0-9_]+)?://", url)
    if not m:
        scheme = url.split(":", 1)[0]
        raise SQLSourceError(f"{url_env} names a {scheme!r} database; SQL sources read PostgreSQL "
                             "(postgresql://user@host:port/database)")
    if m.group(2) in (None, "+psycopg2", "+psycopg"):
        url = "postgresql+psycopg://" + url[m.end():]
    return url


def _engine(url: str) -> Any:
    try:
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise SQLSourceError("SQL sources need SQLAlchemy 2 and psycopg 3: pip install sqlalchemy "
                             "'psycopg[binary]'") from exc
    return sa.create_engine(url, poolclass=NullPool,
                            connect_args={"application_name": "veplab (read-only)", "connect_timeout": 15})


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def run_query(sql: str, url: str, *, timeout: float | None = DEFAULT_TIMEOUT) -> tuple[list[str], list[tuple]]:
    """Run one checked query in a READ ONLY transaction; returns (column names, rows).

    The transaction is always rolled back.  Raises :class:`SQLSourceError`
    when the connection or the query fails (the message never holds the
    password).

    The query is checked first (:func:`check_query`, before connecting);
    the transaction is put in ``READ ONLY`` mode (and checked with ``SHOW
    transaction_read_only``), given a ``statement_timeout``, then rolled back.

    Parameters
    ----------
    sql : str
        One SELECT statement.
    url : str
        A PostgreSQL URL (``postgresql+psycopg://user@host:5432/db``; see
        :func:`connection_url`).
    timeout : float or None
        Statement timeout in seconds (None: the server's).

    Returns
    -------
    (list of str, list of tuple)
        Column names and rows, in the query's order.

    Raises
    ------
    SQLSourceError

    References
    ----------
    PostgreSQL 16 documentation (2023), "SET TRANSACTION" (``READ ONLY``) and
    "Client Connection Defaults" (``statement_timeout``),
    https://www.postgresql.org/docs/16/.
    SQLAlchemy 2.0 documentation, "Working with Engines and Connections",
    https://docs.sqlalchemy.org/en/20/core/connections.html.

    Examples
    --------
    A refused query never reaches the database:

    >>> run_query("UPDATE assessments SET g1 = 0", "postgresql+psycopg://reader@dbhost/assessments")
    Traceback (most recent call last):
    ...
    veplab.ingest.sql.SQLSourceError: only a single SELECT (or WITH ... SELECT) query may be used as a data source; this one starts with UPDATE

    With a server (not available here):

    >>> columns, rows = run_query("SELECT rating_id, g1 FROM assessments ORDER BY rating_id",
    ...                           "postgresql+psycopg://reader@dbhost/assessments")  # doctest: +SKIP
    """
    sql = check_query(sql)
    engine = _engine(url)
    try:
        try:
            conn = engine.connect()
        except Exception as exc:  # sqlalchemy.exc.OperationalError and friends
            raise SQLSourceError(f"cannot connect to the database: {_first_line(exc)}") from None
        with conn:
            try:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                if timeout:
                    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(float(timeout) * 1000)}")
                state = conn.exec_driver_sql("SHOW transaction_read_only").scalar()
                if str(state).lower() != "on":
                    raise SQLSourceError("the database did not put the transaction in read-only mode; "
                                         "the query was not run")
                result = conn.exec_driver_sql(sql)
                if not result.returns_rows:
                    raise SQLSourceError("the query returns no rows (it is not a SELECT)")
                columns = [str(c) for c in result.keys()]
                rows = [tuple(r) for r in result.fetchall()]
            except SQLSourceError:
                raise
            except Exception as exc:  # sqlalchemy.exc.DBAPIError: syntax, permissions, timeouts
                raise SQLSourceError(f"the query failed: {_first_line(exc)}") from None
            finally:
                try:
                    conn.rollback()
                except Exception:  # noqa: BLE001 - the connection may be gone already
                    pass
    finally:
        engine.dispose()
    return columns, rows


# --------------------------------------------------------------------------- canonical result


def _canonical(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (int, decimal.Decimal)):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value.total_seconds())
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def canonical_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    r"""The canonical CSV of a query result (see the module docstring), as UTF-8 bytes.

    A header row with the column names, then one row per result row, in the
    query's order: ``\N`` for NULL, booleans ``true``/``false``, dates and
    times in ISO 8601, floats as Python ``repr``, integers and decimals as
    written, bytes in hex, JSON with sorted keys; quoting as RFC 4180 (only
    where needed), lines ending in ``\n``.  Its SHA-256 is what the manifest
    records for a SQL source, so the same rows always give the same hash.

    Parameters
    ----------
    columns : sequence of str
    rows : sequence of sequences

    Returns
    -------
    bytes

    References
    ----------
    Shafranovich, Y. (2005). RFC 4180, *Common Format and MIME Type for
    Comma-Separated Values (CSV) Files*.
    PostgreSQL 16 documentation (2023), "COPY" (text format: ``\N`` for NULL).
    ISO 8601-1:2019, *Date and time -- Representations for information
    interchange*.

    Examples
    --------
    >>> import datetime
    >>> text = canonical_csv(["id", "assessed_on", "score", "note"],
    ...                      [(1, datetime.date(2024, 3, 1), 2.5, None), (2, None, 0.1, "low, stable")])
    >>> print(text.decode("utf-8"), end="")
    id,assessed_on,score,note
    1,2024-03-01,2.5,\N
    2,\N,0.1,"low, stable"
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(list(columns))
    for r in rows:
        w.writerow([_canonical(v) for v in r])
    return buf.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    """A database value as the loader reads it."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, decimal.Decimal):
        return str(value)  # exact; the loader parses numbers from text
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, (_dt.time, _dt.timedelta)):
        return _canonical(value)
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


@dataclasses.dataclass(frozen=True)
class SQLQuery:
    """A read-only query as a data source for :func:`veplab.data.load`.

    ``sql`` is one SELECT statement, ``url_env`` the environment variable
    holding the PostgreSQL URL, ``name`` what messages call it, ``timeout``
    the statement timeout in seconds.
    """

    sql: str
    url_env: str = "VEPLAB_DB_URL"
    name: str = "query"
    timeout: float | None = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        object.__setattr__(self, "sql", check_query(self.sql))
        if not isinstance(self.url_env, str) or not _ENV_NAME.match(self.url_env):
            raise SQLSourceError(f"url_env must name an environment variable, got {self.url_env!r}")

    def __str__(self) -> str:
        return f"sql:{self.name}"

    def fetch(self) -> tuple[list[str], list[tuple]]:
        """(column names, rows) of the query."""
        return run_query(self.sql, connection_url(self.url_env), timeout=self.timeout)

    def read_raw(self, *, problems: Problems | None = None) -> RawTable:
        """The result as a :class:`~veplab.data.readers.RawTable` (rows numbered from 1)."""
        probs = problems if problems is not None else Problems(str(self))
        try:
            columns, rows = self.fetch()
        except SQLSourceError as exc:
            probs.add(None, str(exc), "check the query, the database URL in "
                      f"${self.url_env} and that the server is reachable")
            raise DataError(probs.frame()) from None
        dups = sorted({c for c in columns if columns.count(c) > 1})
        if dups:
            probs.add(", ".join(dups), "the query returns these column names more than once",
                      "give each column a distinct name with AS")
            raise DataError(probs.frame())
        if not rows:
            probs.add(None, "the query returned no rows", "check the query's WHERE conditions")
            raise DataError(probs.frame())
        if not has_order_by(self.sql):
            probs.add(None, "the query has no ORDER BY, so the row order (and the result's SHA-256 in the "
                      "manifest) may change between runs", "end the query with ORDER BY <the id column>",
                      severity="warning")
        frame = pd.DataFrame.from_records([[_cell(v) for v in r] for r in rows], columns=columns)
        frame = frame.astype(object)
        return RawTable(frame=frame, row_numbers=list(range(1, len(rows) + 1)), format="sql",
                        encoding="utf-8", sha256=hashlib.sha256(canonical_csv(columns, rows)).hexdigest())


def source_digest(source: Any) -> dict[str, Any]:
    r"""What the build manifest records for a SQL source: the query and a SHA-256 of its result.

    ``source`` is a :class:`veplab.study.Source` with ``sql`` and ``url_env``
    (or a :class:`SQLQuery`).  Runs the query (read-only) and returns::

        {"kind": "sql", "query": "<the query text>", "url_env": "VEPLAB_DB_URL",
         "database": "<database name>", "rows": 1234, "columns": [...],
         "sha256": "<hex SHA-256 of the canonical CSV>",
         "canonical": "csv utf-8; header; \\N = NULL; rows in query order"}

    The SHA-256 equals ``load_info(df).sha256`` of a frame loaded from the
    same source, so notebooks and manifest can be checked against each other.

    Parameters
    ----------
    source : Source or SQLQuery

    Returns
    -------
    dict

    Raises
    ------
    SQLSourceError
        When ``source`` has no query, the environment variable is not set or
        names another database, or the query fails.

    References
    ----------
    NIST (2015), FIPS 180-4, *Secure Hash Standard* (SHA-256).
    Shafranovich, Y. (2005). RFC 4180, *Common Format and MIME Type for
    Comma-Separated Values (CSV) Files* (see :func:`canonical_csv`).

    Examples
    --------
    The URL comes from the environment, never from study.yml:

    >>> query = SQLQuery("SELECT * FROM assessments ORDER BY rating_id", url_env="VEPLAB_EXAMPLE_DB_URL")
    >>> source_digest(query)
    Traceback (most recent call last):
    ...
    veplab.ingest.sql.SQLSourceError: environment variable VEPLAB_EXAMPLE_DB_URL is not set; set it to the database URL, e.g. export VEPLAB_EXAMPLE_DB_URL=postgresql://reader@dbhost:5432/assessments (password in ~/.pgpass or PGPASSWORD, never in study.yml)

    With the variable set and a server reachable (not here):

    >>> source_digest(query)["rows"]  # doctest: +SKIP
    1234
    """
    if isinstance(source, SQLQuery):
        query = source
    else:
        sql = getattr(source, "sql", None)
        if not sql:
            raise SQLSourceError(f"source {getattr(source, 'name', source)!r} is not a SQL source")
        query = SQLQuery(sql, url_env=getattr(source, "url_env", None) or "VEPLAB_DB_URL",
                         name=getattr(source, "name", "query"),
                         timeout=(getattr(source, "options", None) or {}).get("timeout", DEFAULT_TIMEOUT))
    url = connection_url(query.url_env)
    columns, rows = run_query(query.sql, url, timeout=query.timeout)
    database = url.rsplit("/", 1)[-1].split("?", 1)[0] if "/" in url.split("://", 1)[-1] else ""
    return {
        "kind": "sql",
        "query": query.sql,
        "url_env": query.url_env,
        "database": database,
        "rows": len(rows),
        "columns": columns,
        "sha256": hashlib.sha256(canonical_csv(columns, rows)).hexdigest(),
        "canonical": "csv utf-8; header; \\N = NULL; rows in query order",
    }
