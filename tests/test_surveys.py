"""The instrument codebooks in ``surveys/``: they load, are fully translated,
share demographic codes, and have the structure each instrument promises."""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import pytest

from veplab.codebook import LANGUAGES, Codebook
from veplab.codebook import load as _load_uncached

SURVEYS = Path(__file__).resolve().parents[1] / "surveys"
FILES = sorted(SURVEYS.glob("*.yml"))
EXPECTED = {
    "push_pull.yml": ("push_pull_v1", "respondent", "respondent_id"),
    "rna_tool.yml": ("rna_tool_v1", "rating", "rating_id"),
    "staff_training.yml": ("staff_training_v1", "response", "response_id"),
    "prison_climate.yml": ("prison_climate_v1", "prison", "prison_id"),
    "release_followup.yml": ("release_followup_v1", "person", "person_id"),
}
# Codebooks are frozen, so one parse per file serves every test.
load = functools.lru_cache(maxsize=None)(_load_uncached)
ARABIC = re.compile(r"[\u0600-\u06FF]")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
SHARED = ("country", "prison_id", "prison_type", "gender", "age_band", "nationality",
          "offence_category", "sentence_band", "vep_status")


@pytest.fixture(scope="module")
def books() -> dict[str, Codebook]:
    return {p.name: load(p) for p in FILES}


def _labels(cb: Codebook):
    """Every ``(where, {lang: text})`` a reader of this codebook sees."""
    yield "title", cb.title
    if cb.description:
        yield "description", cb.description
    for item in cb.items:
        yield f"item {item.id}", item.label
        for code, labels in item.options.items():
            yield f"item {item.id} option {code}", labels
        if isinstance(item.extra.get("description"), dict):
            yield f"item {item.id} description", item.extra["description"]
    for scale in cb.scales:
        yield f"scale {scale.id}", scale.label


# ------------------------------------------------------------------ all codebooks


def test_the_five_instruments_are_there():
    assert sorted(p.name for p in FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_codebook_loads_with_expected_id_unit_and_id_column(path):
    cb = load(path)
    assert (cb.id, cb.unit, cb.id_column) == EXPECTED[path.name]
    assert cb.version == "1.0"
    assert cb.columns[0] == cb.id_column
    assert cb.id_column in cb


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_label_is_in_all_four_languages(path):
    cb = load(path)
    gaps = [(where, lang) for where, labels in _labels(cb) for lang in LANGUAGES
            if not (labels.get(lang) or "").strip()]
    assert gaps == []
    for where, labels in _labels(cb):
        assert ARABIC.search(labels["ar"]), f"{path.name} {where}: Arabic label has no Arabic script"
        assert CYRILLIC.search(labels["ru"]), f"{path.name} {where}: Russian label has no Cyrillic"
        assert not CYRILLIC.search(labels["ar"]) and not ARABIC.search(labels["ru"])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_translations_are_translations_not_copies(path):
    # Short names (Kazakhstan, Sport) may coincide in French; sentences must not.
    cb = load(path)
    for where, labels in _labels(cb):
        if len(labels["en"]) > 25:
            assert labels["fr"] != labels["en"], f"{where}: French equals English"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_is_utf8_without_escapes(path):
    text = path.read_bytes().decode("utf-8")  # raises on anything else
    assert "\\u0" not in text and "\\x" not in text


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_ids_are_admin_and_pseudonymised(path):
    cb = load(path)
    id_item = cb.item(cb.id_column)
    assert (id_item.type, id_item.role, id_item.pseudonymised) == ("text", "admin", True)
    for item in cb.items:
        if item.id.endswith("_id") and item.id != "prison_id" or item.id == "rater":
            assert item.role == "admin" and item.pseudonymised, item.id
    # nothing in our instruments is a direct identifier
    assert cb.by_role("identifier") == ()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_item_in_two_scales(path):
    cb = load(path)
    counts = Counter(i for s in cb.scales for i in s.items)
    assert [i for i, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_item_domain_matches_its_scale(path):
    cb = load(path)
    for scale in cb.scales:
        for item_id in scale.items:
            assert cb.item(item_id).domain == scale.id, item_id


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_option_sets_are_consistent_within_a_file(path):
    # Agreement scales are written once (YAML anchor) and reused: one label set per file.
    cb = load(path)
    agree = {repr(sorted(i.options.items())) for i in cb.items if i.type == "likert"}
    assert len(agree) <= 1
    for item in cb.items:
        if item.type == "likert":
            assert item.codes == (1, 2, 3, 4, 5)
            assert item.options[1]["en"] == "Strongly disagree"
            assert item.options[5]["en"] == "Strongly agree"
            assert item.missing.get(8) == "dont_know"


def test_repeated_option_sets_are_identical_across_files(books):
    # the 5-point agreement scale, yes/no and low/moderate/high read the same everywhere
    def sets(predicate):
        return {repr(sorted((c, dict(o)) for c, o in i.options.items()))
                for cb in books.values() for i in cb.items if predicate(i)}

    assert len(sets(lambda i: i.type == "likert")) == 1
    assert len(sets(lambda i: i.type == "binary" and i.options[0]["en"] == "No")) == 1
    assert len(sets(lambda i: i.codes == (0, 1, 2) and i.options[0]["en"] == "Low")) == 1
    risk = books["release_followup.yml"].item("risk_at_release")
    assert risk.options == books["rna_tool.yml"].item("final_judgement").options


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_scales_score_only_scoreable_items_with_sensible_min_items(path):
    cb = load(path)
    for scale in cb.scales:
        assert scale.score in ("mean", "sum")
        assert 1 <= scale.min_items < len(scale.items) or len(scale.items) == 1
        assert all(lang in scale.label for lang in LANGUAGES)


# ------------------------------------------------------------------ shared demographics


def _readme_shared_columns() -> dict[str, tuple[str, dict[int, str]]]:
    """The shared-columns table of surveys/README.md: id -> (type, {code: en label})."""
    table = {}
    for line in (SURVEYS / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `(\w+)` \| (\w+)[^|]*\| (.*) \|$", line)
        if not m or m.group(1) not in SHARED:
            continue
        codes = dict(re.findall(r"(?:^|, )(\d+) (.+?)(?=, \d+ |$)", m.group(3)))
        table[m.group(1)] = (m.group(2), {int(c): label for c, label in codes.items()})
    return table


def test_readme_table_is_parsed():
    table = _readme_shared_columns()
    assert set(table) == set(SHARED)
    assert table["age_band"][1][5] == "55 and over"
    assert table["vep_status"] == ("binary", {0: "general population", 1: "violent extremist prisoner"})
    assert table["prison_id"] == ("text", {})
    assert table["sentence_band"][1][3] == "2-5 years"


def test_shared_demographics_follow_the_readme(books):
    table = _readme_shared_columns()
    seen = Counter()
    for name, cb in books.items():
        for col in SHARED:
            if col not in cb:
                continue
            seen[col] += 1
            item = cb.item(col)
            typ, codes = table[col]
            assert item.type == typ, (name, col)
            if codes:
                assert item.codes == tuple(sorted(codes)), (name, col)
                assert {c: item.options[c]["en"].lower() for c in codes} == {
                    c: label.lower() for c, label in codes.items()}, (name, col)
            expected_role = "sensitive" if col == "vep_status" else "quasi_identifier"
            if col == cb.id_column:
                expected_role = "admin"
            assert item.role == expected_role, (name, col)
    assert seen["country"] == 5 and seen["gender"] == 4 and seen["vep_status"] == 2


def test_shared_demographics_have_identical_labels_in_every_language(books):
    for col in SHARED:
        versions = {name: (dict(cb.item(col).label) if col != cb.id_column else None,
                           {c: dict(o) for c, o in cb.item(col).options.items()})
                    for name, cb in books.items() if col in cb}
        options = {repr(sorted(v[1].items())) for v in versions.values()}
        labels = {repr(sorted(v[0].items())) for v in versions.values() if v[0] is not None}
        assert len(options) == 1, f"{col}: option labels differ between files"
        assert len(labels) <= 1 or col == "prison_id", f"{col}: labels differ between files"


def test_push_pull_has_all_shared_demographics(books):
    cb = books["push_pull.yml"]
    assert cb.columns[:11] == ("respondent_id", "interview_date") + SHARED
    assert cb.item("interview_date").type == "date"
    assert cb.item("interview_date").role == "admin"


# ------------------------------------------------------------------ push and pull survey

PUSH_PULL_DOMAINS = {
    "grievance": "push", "identity": "pull", "ideology": "pull", "economic": "push",
    "peers": "pull", "recruiters": "pull", "prison_conditions": "push", "coercion": "push",
    "family_ties": "protective", "trust_staff": "protective", "programme": "protective",
    "violence_endorsement": "outcome",
}


def test_push_pull_scales_and_domains(books):
    cb = books["push_pull.yml"]
    assert {s.id: s.domain for s in cb.scales} == PUSH_PULL_DOMAINS
    for scale in cb.scales:
        assert 3 <= len(scale.items) <= 4, scale.id
        assert scale.score == "mean"
        assert scale.min_items == len(scale.items) - 1
        assert all(i.startswith(f"pp_{scale.id}_") for i in scale.items)
        for item_id in scale.items:
            item = cb.item(item_id)
            assert item.type == "likert"
            assert item.missing.get(8) == "dont_know" and item.missing.get(9) == "refused"
            assert item.role == ("outcome" if scale.domain == "outcome" else "item")


def test_push_pull_every_likert_item_is_in_a_scale(books):
    cb = books["push_pull.yml"]
    likert = {i.id for i in cb.items if i.type == "likert"}
    scored = {i for s in cb.scales for i in s.items}
    assert likert == scored
    assert 35 <= len(likert) <= 45


def test_push_pull_reverse_keyed_items(books):
    cb = books["push_pull.yml"]
    with_reverse = {s.id for s in cb.scales if any(cb.item(i).reverse for i in s.items)}
    assert len(with_reverse) >= 6
    for scale in cb.scales:  # never a scale of reversed items only
        assert not all(cb.item(i).reverse for i in scale.items), scale.id
    literacy = cb.item("pp_ideology_3")
    assert literacy.reverse and "religio" in literacy.label["en"]
    assert "protective" in literacy.extra["description"]["en"]
    assert literacy.reversed_code(5) == 1 and literacy.reversed_code(2) == 4


def test_push_pull_trigger_event_item(books):
    item = books["push_pull.yml"].item("pp_grievance_3")
    assert "family" in item.label["en"] and "kill" in item.label["en"]
    assert item.missing == {7: "not_applicable", 8: "dont_know", 9: "refused"}


def test_push_pull_comment_is_optional_sensitive_text(books):
    item = books["push_pull.yml"].item("pp_comment")
    assert (item.type, item.role, item.required) == ("text", "sensitive", False)
    assert not any("pp_comment" in s.items for s in books["push_pull.yml"].scales)


# ------------------------------------------------------------------ risk and needs tool

RNA_DOMAINS = {"beliefs_attitudes": "ba", "social_context_intent": "sc", "history_capability": "hc",
               "commitment_motivation": "cm", "protective": "pr"}


def test_rna_domain_scales(books):
    cb = books["rna_tool.yml"]
    assert [s.id for s in cb.scales] == list(RNA_DOMAINS)
    for scale in cb.scales:
        assert scale.items == tuple(f"rna_{RNA_DOMAINS[scale.id]}_{k}" for k in range(1, 5))
        assert (scale.score, scale.min_items) == ("sum", 3)
        for item_id in scale.items:
            item = cb.item(item_id)
            assert item.type == "ordinal"
            assert item.codes == (0, 1, 2)
            assert [item.options[c]["en"] for c in item.codes] == ["Low", "Moderate", "High"]
            assert item.missing == {9: "not_applicable"}
            # protective factors are rated as present and reversed so scores point to risk
            assert item.reverse is (scale.id == "protective")
            if item.reverse:
                assert item.reversed_code(2) == 0
                assert "high means strongly present" in item.extra["description"]["en"]
    assert "fewer protective factors" in cb.scale("protective").label["en"]


def test_rna_final_judgement_is_separate(books):
    cb = books["rna_tool.yml"]
    fj = cb.item("final_judgement")
    assert (fj.type, fj.role, fj.codes) == ("ordinal", "outcome", (0, 1, 2))
    assert [fj.options[c]["en"] for c in fj.codes] == ["Low", "Moderate", "High"]
    assert all("final_judgement" not in s.items for s in cb.scales)
    assert "never computed from the item" in fj.extra["description"]["en"]


def test_rna_design_and_linkage(books):
    cb = books["rna_tool.yml"]
    assert cb.extra["design"] == {"subject": "case_id", "rater": "rater", "judgement": "final_judgement"}
    for role_col in cb.extra["design"].values():
        assert role_col in cb
    for col in ("case_id", "rater"):
        item = cb.item(col)
        assert (item.type, item.role, item.pseudonymised) == ("text", "admin", True)
    assert cb.item("assessment_date").type == "date"
    link_table, link_col = cb.item("case_id").extra["links_to"].split(".")
    other = books["release_followup.yml"]
    assert other.id == link_table and other.id_column == link_col
    assert {"country", "prison_id", "prison_type", "gender", "age_band"} <= set(cb.item_ids)


# ------------------------------------------------------------------ staff training


def test_staff_scales_carry_kirkpatrick_levels(books):
    cb = books["staff_training.yml"]
    levels = {s.id: s.extra.get("kirkpatrick") for s in cb.scales}
    assert levels == {"reaction": 1, "knowledge": 2, "confidence": 2, "dynamic_security": 2,
                      "human_rights": 2, "practice": 3}


def test_staff_knowledge_items_are_keyed(books):
    cb = books["staff_training.yml"]
    scale = cb.scale("knowledge")
    assert scale.score == "sum" and len(scale.items) == 8
    keys = []
    for item_id in scale.items:
        item = cb.item(item_id)
        assert item.type == "categorical"
        assert item.key in item.options
        answers = [c for c in item.codes if item.options[c]["en"] != "I don't know"]
        assert 3 <= len(answers) <= 4
        assert item.options[8]["en"] == "I don't know"  # a regular option: scores 0
        assert item.key != 8 and 8 not in item.missing
        keys.append(item.key)
    assert len(set(keys)) >= 3  # the right answer is not always in the same place


def test_staff_reaction_is_post_only(books):
    cb = books["staff_training.yml"]
    for item_id in cb.scale("reaction").items:
        item = cb.item(item_id)
        assert item.required is False
        assert item.missing[7] == "not_asked"
    assert len(cb.scale("reaction").items) == 3
    # everything else is asked at both waves
    others = {i for s in cb.scales if s.id != "reaction" for i in s.items}
    assert all(cb.item(i).required for i in others)


def test_staff_attitude_scales_have_one_reversed_item(books):
    cb = books["staff_training.yml"]
    for sid in ("dynamic_security", "human_rights"):
        items = [cb.item(i) for i in cb.scale(sid).items]
        assert len(items) == 4
        assert sum(i.reverse for i in items) == 1
    assert 4 <= len(cb.scale("confidence").items) <= 5


def test_staff_practice_and_profile_items(books):
    cb = books["staff_training.yml"]
    for item_id in cb.scale("practice").items:
        item = cb.item(item_id)
        assert item.type == "ordinal" and item.codes == (1, 2, 3, 4)
        assert (item.options[1]["en"], item.options[4]["en"]) == ("Never", "Often")
    wave = cb.item("wave")
    assert (wave.type, wave.role, wave.codes) == ("categorical", "admin", (1, 2))
    assert cb.item("staff_id").pseudonymised and cb.item("staff_id").role == "admin"
    role = cb.item("staff_role")
    assert (role.type, role.role, role.codes) == ("categorical", "quasi_identifier", (1, 2, 3, 4))
    assert "chaplain" in role.options[3]["en"]
    band = cb.item("service_band")
    assert (band.type, band.role, band.codes) == ("ordinal", "quasi_identifier", (1, 2, 3, 4))


# ------------------------------------------------------------------ prison climate


def test_prison_climate_structure(books):
    cb = books["prison_climate.yml"]
    assert cb.quasi_identifiers == ("country", "prison_type")
    assert (cb.item("capacity").min, cb.item("capacity").integer) == (1, True)
    assert (cb.item("population").min, cb.item("population").integer) == (0, True)
    assert (cb.item("remand_share").min, cb.item("remand_share").max) == (0, 100)
    assert cb.item("staff_count").integer
    expected = {"physical_security": "binary", "procedural_security": "binary",
                "dynamic_security": "likert", "access_services": "ordinal"}
    assert {s.id for s in cb.scales} == set(expected)
    for scale in cb.scales:
        assert scale.score == "mean" and len(scale.items) == 5
        for item_id in scale.items:
            item = cb.item(item_id)
            assert item.type == expected[scale.id] and item.role == "item"
            if item.type == "binary":
                assert item.codes == (0, 1) and item.options[1]["en"] == "Yes"
            if item.type == "ordinal":
                assert item.codes == (1, 2, 3, 4)


# ------------------------------------------------------------------ release follow-up


def test_release_followup_structure(books):
    cb = books["release_followup.yml"]
    assert cb.item("vep_status").role == "sensitive"
    pc = cb.item("prior_convictions")
    assert (pc.type, pc.min, pc.max, pc.integer) == ("numeric", 0, 50, True)
    t = cb.item("time_days")
    assert (t.type, t.min, t.max, t.role) == ("numeric", 0, 730, "outcome")
    r = cb.item("rearrested")
    assert (r.type, r.codes, r.role) == ("binary", (0, 1), "outcome")
    assert cb.item("programme").codes == (0, 1)
    assert cb.item("programme_type").codes == (0, 1, 2, 3, 4, 5)
    assert cb.item("programme_type").options[4]["en"] == "Faith-based dialogue"
    risk = cb.item("risk_at_release")
    assert (risk.type, risk.codes) == ("ordinal", (0, 1, 2))
    assert cb.item("release_date").type == "date"
    assert cb.extra["survival"] == {"time": "time_days", "event": "rearrested", "status": "followup_end"}
    end = cb.item("followup_end")
    assert (end.type, end.codes, end.role) == ("categorical", (0, 1, 2), "outcome")
    assert cb.scales == ()
