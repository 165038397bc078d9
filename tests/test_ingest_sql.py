"""Read-only PostgreSQL sources, end to end against a throwaway server started on loopback.

The server tests need the PostgreSQL server binaries (Debian package ``postgresql``:
initdb, pg_ctl) and skip with the reason when they are missing or the server cannot start.
As root, the server runs as the ``postgres`` system user (PostgreSQL refuses root).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab.codebook import load as load_codebook
from veplab.data import DataError, load, load_info, missing_reasons
from veplab.ingest.sql import SQLQuery, SQLSourceError, canonical_csv, check_query, has_order_by, source_digest
from veplab.study import StudyError, load_study

ROOT = Path(__file__).resolve().parents[1]
ENV = "VEPLAB_TEST_DB_URL"


# --------------------------------------------------------------------------- the query check (no server)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM rna_assessment ORDER BY rating_id",
    "  select 1 ;  ",
    "WITH recent AS (SELECT * FROM t WHERE d > '2024-01-01') SELECT * FROM recent",
    "(SELECT a FROM t) UNION (SELECT a FROM u)",
    "SELECT ';' AS semi, 'DROP TABLE x' AS text, $$ DELETE $$ AS d, \"into\" FROM t -- ; DELETE FROM t",
    "SELECT /* ; UPDATE t SET x = 1 */ x FROM t",
    "SELECT E'it\\'s; fine' AS s",
    "SELECT 'Отказ' AS ru, 'رفض' AS ar",
])
def test_allowed_queries(sql):
    checked = check_query(sql)
    assert checked == sql.strip().rstrip(";").rstrip() and not checked.endswith(";")


@pytest.mark.parametrize("sql, message", [
    ("DELETE FROM rna_assessment", "starts with DELETE"),
    ("SELECT 1; DROP TABLE rna_assessment", "2 statements"),
    ("SELECT 1; SELECT 2;", "2 statements"),
    ("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "DELETE changes the database"),
    ("SELECT * INTO copy_of_t FROM t", "SELECT ... INTO creates a table"),
    ("SELECT * FROM t FOR UPDATE", "FOR UPDATE"),
    ("SELECT set_config('transaction_read_only', 'off', true)", "set_config()"),
    ("UPDATE t SET x = 1", "starts with UPDATE"),
    ("COPY t TO '/tmp/x'", "starts with COPY"),
    ("", "empty"),
    ("SELECT 'unclosed", "unclosed string"),
    ("SELECT 1 /* unclosed", "unclosed /*"),
])
def test_refused_queries(sql, message):
    with pytest.raises(SQLSourceError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        check_query(sql)


def test_order_by_detection_and_canonical_csv():
    assert has_order_by("SELECT * FROM t ORDER BY id")
    assert not has_order_by("SELECT * FROM (SELECT * FROM t ORDER BY id) s")
    assert not has_order_by("SELECT a FROM t ORDER BY a UNION SELECT a FROM u")
    import datetime as dt
    import decimal

    data = canonical_csv(["id", "d", "x", "b", "n", "s"],
                         [("a", dt.date(2024, 1, 5), 1.5, True, None, 'say "hi", ok'),
                          ("b", dt.date(2024, 1, 6), decimal.Decimal("2.50"), False, 3, "Отказ / رفض")])
    assert data.decode("utf-8") == ('id,d,x,b,n,s\na,2024-01-05,1.5,true,\\N,"say ""hi"", ok"\n'
                                    "b,2024-01-06,2.50,false,3,Отказ / رفض\n")


def test_study_sql_source_configuration(tmp_path, monkeypatch):
    study = _study(tmp_path, "SELECT * FROM rna_assessment ORDER BY rating_id")
    cfg = load_study(study)
    src = cfg.source("rna")
    assert src.is_sql and src.path is None and src.url_env == ENV
    assert src.query().sql == "SELECT * FROM rna_assessment ORDER BY rating_id"
    # the URL is never in study.yml
    bad = tmp_path / "bad"
    _study(bad, "SELECT 1", extra="url: postgresql://reader:pw@db/x")
    with pytest.raises(StudyError, match="never put a database URL or password in study.yml"):
        load_study(bad)
    bad2 = tmp_path / "bad2"
    _study(bad2, "DELETE FROM rna_assessment")
    with pytest.raises(StudyError, match="source 'rna': only a single SELECT"):
        load_study(bad2)
    bad3 = tmp_path / "bad3"
    _study(bad3, "SELECT 1", url_env=None)
    with pytest.raises(StudyError, match="needs url_env"):
        load_study(bad3)
    # the environment variable is not set: a clear error, nothing loaded
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(DataError, match=f"environment variable {ENV} is not set"):
        cfg.load_source("rna")
    monkeypatch.setenv(ENV, "mysql://reader@db/x")
    with pytest.raises(DataError, match="SQL sources read PostgreSQL"):
        cfg.load_source("rna")


def _study(folder: Path, sql: str, *, url_env: str | None = ENV, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "surveys").mkdir(exist_ok=True)
    shutil.copy(ROOT / "surveys/rna_tool.yml", folder / "surveys/rna_tool.yml")
    lines = ["id: sqlstudy", "sources:", "  rna:", "    sql: |", textwrap.indent(sql, " " * 6)]
    if url_env:
        lines.append(f"    url_env: {url_env}")
    if extra:
        lines.append(f"    {extra}")
    lines.append("    codebook: rna_tool")
    (folder / "study.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


# --------------------------------------------------------------------------- a real PostgreSQL server


def _pg_bindir() -> Path | None:
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for d in candidates:
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg():
    """A throwaway PostgreSQL cluster on 127.0.0.1 with an assessments table; stopped at the end."""
    pytest.importorskip("sqlalchemy")
    psycopg = pytest.importorskip("psycopg")
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed: apt-get install postgresql")
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' system user to run the server")
        prefix = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else []
        if not prefix:
            pytest.skip("running as root and runuser is not available")
    base = Path(tempfile.mkdtemp(prefix="veplab-pg-"))
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, log = base / "data", base / "server.log"
    port = _free_port()

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout)

    res = run(str(bindir / "initdb"), "-D", str(data), "-U", "veplab_admin", "--auth=trust", "-E", "UTF8",
              "--locale=C", "--no-sync")
    if res.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"initdb failed: {res.stderr.strip()[:300]}")
    res = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
              f"-h 127.0.0.1 -p {port} -k {base} -F", "start", timeout=90)
    if res.returncode != 0:
        detail = log.read_text(errors="replace")[-500:] if log.exists() else res.stderr
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {detail.strip()}")
    admin = f"postgresql://veplab_admin@127.0.0.1:{port}/postgres"
    try:
        for _ in range(50):
            try:
                conn = psycopg.connect(admin, autocommit=True)
                break
            except psycopg.OperationalError:
                time.sleep(0.2)
        else:
            pytest.skip("PostgreSQL started but accepts no connections")
        with conn:
            conn.execute("CREATE DATABASE prison_assessments ENCODING 'UTF8' TEMPLATE template0")
            conn.execute("CREATE ROLE reader LOGIN PASSWORD 'not-in-study-yml'")
        db = f"postgresql://veplab_admin@127.0.0.1:{port}/prison_assessments"
        rows = _assessment_rows()
        with psycopg.connect(db, autocommit=True) as conn:
            _create_tables(conn, rows)
        yield {"admin_url": db, "url": f"postgresql://reader:not-in-study-yml@127.0.0.1:{port}/prison_assessments",
               "port": port, "rows": rows, "bindir": bindir, "base": base}
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(base, ignore_errors=True)


ITEMS = [f"rna_{d}_{k}" for d in ("ba", "sc", "hc", "cm", "pr") for k in range(1, 5)]


def _assessment_rows() -> list[dict]:
    """40 fake ratings of 20 cases by two assessors (codes 0-2, 9 = not applicable)."""
    from veplab.privacy import pseudonym

    key = bytes(range(32))
    rng = np.random.default_rng(1207)
    rows = []
    for case in range(20):
        country = 1 + case % 3
        for rater in (0, 1):
            r = {"rating_id": pseudonym(f"rating-{case}-{rater}", key), "case_id": pseudonym(f"case-{case}", key),
                 "rater": pseudonym(f"assessor-{rater + 2 * (case % 2)}", key),
                 "assessment_date": f"2024-0{1 + case % 9}-{10 + rater:02d}",
                 "country": country, "prison_id": ["KZ", "TN", "UG"][country - 1] + f"-P{case % 5:02d}",
                 "prison_type": 1 + case % 4, "gender": 1 + (case % 5 == 0), "age_band": 1 + case % 5}
            for it in ITEMS:
                r[it] = int(rng.choice([0, 1, 2, 9], p=[0.3, 0.35, 0.3, 0.05]))
            r["final_judgement"] = int(rng.integers(0, 3))
            rows.append(r)
    return rows


def _create_tables(conn, rows: list[dict]) -> None:
    cols = ", ".join(f"{it} smallint" for it in [*ITEMS, "final_judgement"])
    conn.execute(f"""CREATE TABLE rna_assessment (rating_id text PRIMARY KEY, case_id text NOT NULL,
        rater text NOT NULL, assessment_date date, country smallint, prison_id text, prison_type smallint,
        gender smallint, age_band smallint, {cols})""")
    names = list(rows[0])
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO rna_assessment ({', '.join(names)}) VALUES "
                        f"({', '.join(['%s'] * len(names))})", [tuple(r[n] for n in names) for r in rows])
    conn.execute("""CREATE TABLE staff_notes (note_id text PRIMARY KEY, lang text, note text, months text,
                    score numeric(4,1), reviewed boolean)""")
    conn.execute("""INSERT INTO staff_notes VALUES
        ('N01', 'ar', 'السجين هادئ ويتعاون مع البرنامج', '٣٤', 12.5, true),
        ('N02', 'ru', 'Заключённый спокоен, участвует в программе', '۱۲', 7.0, false),
        ('N03', 'fr', 'Détenu calme ; participe au programme « Dialogue »', '8', 3.5, NULL),
        ('N04', 'en', 'Calm, "engaged", attends sessions', NULL, NULL, true)""")
    conn.execute("CREATE TABLE audit_trail (n integer)")
    conn.execute("""CREATE FUNCTION bump() RETURNS integer LANGUAGE sql AS
                    'INSERT INTO audit_trail VALUES (1) RETURNING n'""")
    conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    conn.execute("GRANT INSERT ON audit_trail TO reader")
    conn.execute("GRANT EXECUTE ON FUNCTION bump() TO reader")


QUERY = "SELECT * FROM rna_assessment ORDER BY rating_id"


def test_study_source_end_to_end(pg, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, pg["url"])
    cfg = load_study(_study(tmp_path / "study", QUERY))
    df = cfg.load_source("rna")
    rows = sorted(pg["rows"], key=lambda r: r["rating_id"])
    assert len(df) == 40 and list(df["rating_id"]) == [r["rating_id"] for r in rows]
    assert load_info(df).format == "sql"
    # codebook validation applied: codes -> ordered categoricals, 9 -> missing 'not_applicable'
    for it in ("rna_ba_1", "rna_pr_4"):
        expected = [np.nan if r[it] == 9 else r[it] for r in rows]
        got = df[it].astype("float64").tolist()
        assert np.allclose(got, expected, equal_nan=True)
    nine = [k for k, r in enumerate(rows) if r["rna_ba_1"] == 9]
    assert nine and all(missing_reasons(df, ["rna_ba_1"]).iloc[nine, 0] == "not_applicable")
    assert df.loc[0, "assessment_date"] == pd.Timestamp(rows[0]["assessment_date"])
    # the manifest digest: query + SHA-256 of the canonical CSV, equal to the loaded frame's and to psql's
    digest = source_digest(cfg.source("rna"))
    assert digest["query"] == QUERY and digest["rows"] == 40 and digest["url_env"] == ENV
    assert digest["database"] == "prison_assessments" and digest["columns"][:2] == ["rating_id", "case_id"]
    assert digest["sha256"] == load_info(df).sha256
    psql = shutil.which("psql") or str(pg["bindir"] / "psql")
    ref = subprocess.run([psql, pg["admin_url"], "-X", "-q", "-c",
                          f"COPY ({QUERY}) TO STDOUT WITH (FORMAT csv, HEADER, NULL '\\N')"],
                         capture_output=True, timeout=60)
    assert ref.returncode == 0, ref.stderr
    assert hashlib.sha256(ref.stdout).hexdigest() == digest["sha256"]   # PostgreSQL's own CSV, same bytes
    assert "not-in-study-yml" not in repr(digest)
    # the build hashes the query's result into its cache keys and records the query in the manifest
    from veplab.build import input_hashes

    inputs = input_hashes(cfg)
    assert inputs["data"]["rna"] == digest["sha256"]
    assert inputs["sql"]["rna"]["query"] == QUERY and "canonical" not in inputs["sql"]["rna"]


def test_transaction_is_read_only_even_for_a_writing_function(pg, monkeypatch):
    import psycopg

    monkeypatch.setenv(ENV, pg["url"])
    q = SQLQuery("SELECT bump() AS n", url_env=ENV)     # passes the text check, writes through a function
    with pytest.raises(DataError, match="read-only transaction"):
        load(q, _tiny_codebook())
    with psycopg.connect(pg["admin_url"]) as conn:
        assert conn.execute("SELECT count(*) FROM audit_trail").fetchone()[0] == 0


def _tiny_codebook():
    from veplab.codebook import from_dict

    return from_dict({"id": "n", "title": "n", "id_column": "n", "items": [
        {"id": "n", "label": "n", "type": "numeric", "role": "admin"}]})


def test_scripts_digits_and_types_round_trip(pg, monkeypatch):
    from veplab.codebook import from_dict

    monkeypatch.setenv(ENV, pg["url"])
    cb = from_dict({"id": "notes", "title": "Staff notes", "id_column": "note_id", "items": [
        {"id": "note_id", "label": "Note", "type": "text", "role": "admin"},
        {"id": "lang", "label": "Language", "type": "text"},
        {"id": "note", "label": "Note text", "type": "text", "role": "sensitive"},
        {"id": "months", "label": "Months", "type": "numeric", "integer": True, "min": 0},
        {"id": "score", "label": "Score", "type": "numeric"},
        {"id": "reviewed", "label": "Reviewed", "type": "binary", "options": {0: "No", 1: "Yes"}},
    ]})
    df = load(SQLQuery("SELECT * FROM staff_notes ORDER BY note_id", url_env=ENV), cb)
    assert df["note"].tolist() == ["السجين هادئ ويتعاون مع البرنامج", "Заключённый спокоен, участвует в программе",
                                   "Détenu calme ; participe au programme « Dialogue »",
                                   'Calm, "engaged", attends sessions']
    assert df["months"].tolist()[:3] == [34.0, 12.0, 8.0] and pd.isna(df.loc[3, "months"])
    assert df["score"].tolist()[:3] == [12.5, 7.0, 3.5]
    assert df["reviewed"].tolist()[:2] == [1, 0] and pd.isna(df.loc[2, "reviewed"])


def test_failures_are_clear_and_never_show_the_password(pg, monkeypatch):
    monkeypatch.setenv(ENV, pg["url"])
    with pytest.raises(DataError, match='relation "no_such_table" does not exist'):
        load(SQLQuery("SELECT * FROM no_such_table", url_env=ENV), _tiny_codebook())
    with pytest.warns(UserWarning, match="no ORDER BY"):
        load(SQLQuery("SELECT count(*) AS n FROM rna_assessment", url_env=ENV), _tiny_codebook())
    monkeypatch.setenv(ENV, f"postgresql://reader:not-in-study-yml@127.0.0.1:{_free_port()}/prison_assessments")
    with pytest.raises(DataError) as info:
        load(SQLQuery("SELECT 1 AS n", url_env=ENV), _tiny_codebook())
    assert "cannot connect to the database" in str(info.value)
    assert "not-in-study-yml" not in str(info.value)


def test_codebook_validation_applies_to_sql_rows(pg, monkeypatch):
    monkeypatch.setenv(ENV, pg["url"])
    cb = load_codebook(ROOT / "surveys/rna_tool.yml")
    q = SQLQuery("SELECT rating_id, case_id, rater, assessment_date, country, prison_id, prison_type, gender, "
                 "age_band, " + ", ".join(ITEMS[:-1]) + ", rna_pr_4 + 5 AS rna_pr_4, final_judgement "
                 "FROM rna_assessment ORDER BY rating_id", url_env=ENV)
    with pytest.raises(DataError) as info:
        load(q, cb)
    p = info.value.problems
    assert (p["column"] == "rna_pr_4").any() and "outside the codebook options" in p.iloc[0]["problem"]
    assert p.iloc[0]["rows"][0] == 1     # rows are result rows, first = 1
