"""Leak scan of built artefacts."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.privacy import mask_value, pseudonymise, scan_artifacts, suppress_counts

KEY = bytes(range(32))
N = 120


@pytest.fixture(scope="module")
def study():
    rng = np.random.default_rng(0)
    raw = pd.DataFrame({"respondent_id": [f"KZ-{i:05d}" for i in range(N)]})
    df = pseudonymise(raw, "respondent_id", KEY)
    df["gender"] = rng.choice([1, 2], N)
    df["grievance"] = rng.normal(3, 1, N).round(2)
    df["comment"] = [f"My family could not visit me for {i + 3} months because of the distance" for i in range(N)]
    return df


def clean_page() -> str:
    t = pd.DataFrame({"men": [40, 3, 25], "women": [12, 15, 30]}, index=["KZ", "TN", "UG"])
    s = suppress_counts(t, threshold=10)
    stats = pd.DataFrame({"n": [67, 53], "mean": [2.91, 3.12]}, index=["men", "women"])
    return ("<html><body><h1>Grievance</h1><p>Analysis of 120 respondents.</p>"
            + s.to_html() + stats.to_html() + "</body></html>")


def test_clean_page_passes(tmp_path, study):
    (tmp_path / "index.html").write_text(clean_page(), encoding="utf-8")
    (tmp_path / "results.json").write_text(json.dumps({"grievance": {"mean": 3.0, "n": 120,
                                                                     "by_gender": [{"g": 1, "m": 2.9}, {"g": 2, "m": 3.1}]}}))
    findings = scan_artifacts([tmp_path], n_records=N, ids=set(study["respondent_id"]),
                              free_text=set(study["comment"]))
    assert findings == []


def test_planted_head_table_fails(tmp_path, study):
    page = clean_page().replace("</body>", study.head().to_html() + "</body>")
    (tmp_path / "grievance.html").write_text(page, encoding="utf-8")
    findings = scan_artifacts(tmp_path / "grievance.html", n_records=N, ids=set(study["respondent_id"]),
                              free_text=set(study["comment"]))
    errors = [f for f in findings if f.severity == "error"]
    kinds = {f.kind for f in errors}
    assert {"row_level_table", "pseudonym", "id_value", "free_text"} <= kinds
    assert all(f.file.endswith("grievance.html") for f in errors)
    assert any(f.location.startswith("table 3") for f in errors)  # the planted one is the third table
    # no finding shows a value in full
    text = "\n".join(str(f) for f in findings)
    for v in list(study["respondent_id"]) + list(study["comment"]):
        assert v not in text


def test_full_row_level_table_and_json_records(tmp_path, study):
    (tmp_path / "data.html").write_text(study[["gender", "grievance"]].to_html(), encoding="utf-8")
    (tmp_path / "results.json").write_text(json.dumps({"analyses": {"raw": study[["gender", "grievance"]]
                                                                    .to_dict(orient="records")}}))
    findings = scan_artifacts([tmp_path], n_records={"survey": N})
    by_file = {f.file.rsplit("/", 1)[-1]: f for f in findings}
    assert by_file["data.html"].kind == "row_level_table" and by_file["data.html"].severity == "error"
    assert by_file["results.json"].location == "$.analyses.raw"
    assert f"{N} rows" in by_file["results.json"].detail
    # half the records: a warning to look at
    (tmp_path / "half.html").write_text(study[["gender"]].head(70).to_html(), encoding="utf-8")
    half = [f for f in scan_artifacts(tmp_path / "half.html", n_records=N)]
    assert [f.severity for f in half] == ["warning"]


def test_json_ids_and_free_text(tmp_path, study):
    pid = study["respondent_id"][5]
    (tmp_path / "results.json").write_text(json.dumps({"notes": [f"outlier {pid}"],
                                                       "quotes": {"q1": study["comment"][3].upper()}}))
    findings = scan_artifacts(tmp_path, n_records=N, ids=set(study["respondent_id"]),
                              free_text=set(study["comment"]))
    kinds = {(f.kind, f.location) for f in findings}
    assert ("pseudonym", "$.notes[0]") in kinds and ("id_value", "$.notes[0]") in kinds
    assert ("free_text", "$.quotes.q1") in kinds
    assert pid not in "\n".join(map(str, findings))


def test_small_counts_and_raw_ids_in_text(tmp_path):
    page = ("<table><thead><tr><th></th><th>n</th><th>mean</th></tr></thead>"
            "<tbody><tr><th>men</th><td>56</td><td>2.1</td></tr><tr><th>women</th><td>4</td><td>3.3</td></tr>"
            "</tbody></table><script>var data = {'ids': ['R-0012', 'R-0099']};</script>")
    (tmp_path / "p.html").write_text(page)
    findings = scan_artifacts(tmp_path / "p.html", n_records=100, ids={"R-0012", "R-0099", "7"})
    assert {f.kind for f in findings} == {"small_count", "id_value"}
    small = next(f for f in findings if f.kind == "small_count")
    assert small.severity == "warning" and "'n'" in small.detail
    ids = next(f for f in findings if f.kind == "id_value")
    assert ids.location == "page text" and "2 occurrence" in ids.detail


def test_csv_and_text_files(tmp_path, study):
    study.to_csv(tmp_path / "leak.csv", index=False)
    (tmp_path / "notes.md").write_text("Respondent " + study["respondent_id"][0] + " said ...")
    findings = scan_artifacts(tmp_path, n_records=N, ids=set(study["respondent_id"]))
    files = {f.file.rsplit("/", 1)[-1] for f in findings if f.severity == "error"}
    assert files == {"leak.csv", "notes.md"}


@pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("Rscript") is None,
                    reason="needs pdftotext and R (to write a PDF)")
def test_pdf_text_is_scanned(tmp_path, study):
    pid = study["respondent_id"][0]
    pdf = tmp_path / "brief.pdf"
    script = f'pdf("{pdf}"); plot.new(); text(0.5, 0.5, "case {pid}"); invisible(dev.off())'
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True, timeout=120)
    findings = scan_artifacts(pdf, n_records=N, ids=set(study["respondent_id"]))
    assert {(f.kind, f.location) for f in findings} >= {("pseudonym", "page 1"), ("id_value", "page 1")}


def _weasyprint_ok() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@pytest.mark.skipif(shutil.which("pdftotext") is None or not _weasyprint_ok(),
                    reason="needs pdftotext and WeasyPrint (to write an Arabic PDF)")
def test_arabic_free_text_found_in_pdf_despite_ligatures(tmp_path, monkeypatch):
    import weasyprint

    from veplab.privacy import leakscan

    # lam-alef and lam-alef-maksura ligatures ("إلى", "الإفراج", "لا") come out of pdftotext with their
    # letters swapped; the answer must still be found, wrapped over lines in a narrow column
    answer = "لا أثق في أحد هنا، وأريد العودة إلى عائلتي بعد الإفراج في أقرب وقت ممكن"
    other = "ظروف العمل في المصنع صعبة والأجور منخفضة جدًا مقارنة بالعام الماضي"
    html = (f'<html lang="ar" dir="rtl"><body style="font-family: \'Noto Sans Arabic\'; width: 9cm">'
            f"<p>تقرير موجز</p><p>{answer}</p></body></html>")
    pdf = tmp_path / "brief-ar.pdf"
    weasyprint.HTML(string=html).write_pdf(str(pdf))
    extracted = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True).stdout
    assert answer not in extracted  # the plain comparison alone would miss it
    findings = scan_artifacts(pdf, n_records=100, free_text=[answer, other])
    free = [f for f in findings if f.kind == "free_text"]
    assert len(free) == 1 and "1 free-text answer" in free[0].detail and answer[:10] not in free[0].detail
    assert not [f for f in scan_artifacts(pdf, n_records=100, free_text=[other]) if f.kind == "free_text"]
    # the verbatim comparison alone misses it: the right-to-left matching is what finds it
    monkeypatch.setattr(leakscan, "RTL_MATCH_SHARE", 1.01)
    assert not [f for f in scan_artifacts(pdf, n_records=100, free_text=[answer]) if f.kind == "free_text"]


def test_pdf_without_pdftotext_warns(tmp_path, monkeypatch):
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.warns(UserWarning, match="PDF not scanned"):
        findings = scan_artifacts(pdf, n_records=10)
    assert [f.kind for f in findings] == ["not_scanned"]


def test_mask_and_bad_arguments(tmp_path):
    assert mask_value("p_abcdefghijklmnopqrstuvwxyz") == "'p_…' (28 chars)"
    assert mask_value("abc") == "'…' (3 chars)"
    with pytest.raises(InputError):
        scan_artifacts(tmp_path / "missing", n_records=10)
    with pytest.raises(InputError):
        scan_artifacts(tmp_path, n_records=0)
    with pytest.raises(InputError):
        scan_artifacts(tmp_path, n_records=10, threshold=2)


def test_small_count_found_under_pandas_two_row_header(tmp_path):
    stats = pd.DataFrame({"n": [67, 4], "mean": [2.91, 3.12]}, index=pd.Index(["men", "women"], name="gender"))
    (tmp_path / "s.html").write_text(stats.to_html())
    findings = scan_artifacts(tmp_path / "s.html", n_records=100)
    assert [f.kind for f in findings] == ["small_count"]


def test_small_n_fields_in_json_are_flagged(tmp_path):
    doc = {"notebooks": {"nb": {"values": {"ok": {"value": 0.4, "n": 250}, "tiny": {"value": 0.5, "n": 4}}}}}
    (tmp_path / "results.json").write_text(json.dumps(doc))
    found = [f for f in scan_artifacts(tmp_path / "results.json", n_records=500, threshold=10)
             if f.kind == "small_count"]
    assert len(found) == 1 and found[0].severity == "warning" and "values.tiny.n" in found[0].location


def test_numeric_ids_found_in_json_numbers_and_formatted_html(tmp_path):
    ids = [100007, 100019, 100023]
    (tmp_path / "results.json").write_text(json.dumps({"t": {"data": [[100007, 2.5], [5, 1.0]]}}))
    (tmp_path / "page.html").write_text("<html><body><table><tr><td>100,019</td><td>3.1</td></tr></table>"
                                        "</body></html>")
    found = scan_artifacts([tmp_path / "results.json", tmp_path / "page.html"], n_records=500, ids=ids)
    kinds = {(f.file.rsplit("/", 1)[-1], f.kind) for f in found}
    assert ("results.json", "id_value") in kinds and ("page.html", "id_value") in kinds


def test_audit_head_count_is_not_a_count_of_people(tmp_path):
    """manifest.json's audit_head.count numbers log entries: no small-count warning; other paths still warn."""
    import json

    from veplab.privacy import scan_artifacts

    (tmp_path / "manifest.json").write_text(json.dumps({"audit_head": {"count": 3, "hash": "ab" * 32}}))
    assert scan_artifacts(tmp_path, n_records=500) == []
    (tmp_path / "other.json").write_text(json.dumps({"table": {"count": 3}}))
    found = scan_artifacts(tmp_path, n_records=500)
    assert [f.kind for f in found] == ["small_count"] and "other.json" in found[0].file
    assert [f.kind for f in scan_artifacts(tmp_path / "manifest.json", n_records=500, not_counts=())] == ["small_count"]


def test_release_log_lists_outputs_not_people(tmp_path, study):
    """The release log has one row per output: as many as half a small source's records is no leak, but the
    same rows anywhere else still are, and the log's values are still scanned for ids."""
    rows = [{"output": f"nb/tables/t{i}", "status": "published"} for i in range(N)]
    (tmp_path / "release.json").write_text(json.dumps({"outputs": rows, "files": rows[:5]}))
    assert scan_artifacts(tmp_path / "release.json", n_records=N) == []
    (tmp_path / "other.json").write_text(json.dumps({"outputs": rows}))
    assert [f.kind for f in scan_artifacts(tmp_path / "other.json", n_records=N)] == ["row_level_table"]
    leaked = rows[:3] + [{"output": study["respondent_id"][2], "status": "published"}]
    (tmp_path / "release.json").write_text(json.dumps({"outputs": leaked}))
    found = scan_artifacts(tmp_path / "release.json", n_records=N, ids=study["respondent_id"])
    assert found and all(f.kind != "row_level_table" for f in found)
