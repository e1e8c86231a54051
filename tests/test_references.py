"""references.yaml: the published figures load, validate, and carry their evidence labels."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from xstilts import references as R
from xstilts.verify import rules

RESEARCH = Path(__file__).resolve().parents[2] / "shared" / "research"


@pytest.fixture(scope="module")
def refs():
    return R.load()


@pytest.fixture()
def raw():
    return yaml.safe_load(Path(R.DEFAULT_PATH).read_text())


def test_packaged_file_is_versioned_and_valid(refs):
    assert isinstance(refs.version, int) and refs.version >= 1
    assert len({r.id for r in refs}) == len(refs) > 10


def test_the_leaderboard_figures_are_there_exactly(refs):
    published = {"xnli": (80.4, 79.2), "pawsx": (87.7, 86.4), "panx": (64.7, 65.4), "xquad": (77.2, 76.6), "mlqa": (72.3, 71.6), "tydiqa": (76.0, 65.1)}
    for task, (xstilts, xlmr) in published.items():
        r = refs.get(f"xtreme_test_{task}")
        assert r.values == {"xstilts": xstilts, "xlmr": xlmr} and r.split == "test" and r.evidence == "[V]"
        assert r.comparison == {"xstilts": "best_per_target", "xlmr": "baseline"}
    assert refs.get("xtreme_test_xquad").metric == "f1"  # the README's QA numbers are F1, not (EM+F1)/2
    assert refs.get("xtreme_best_per_target_gain").values == {"gain": 5.4}
    assert refs.get("n_intermediate_tasks").values == {"xstilts": 9}


def test_jiant_retrieval_baselines_are_sanity_references(refs):
    bucc, tatoeba = refs.get("jiant_xlmr_bucc_f1"), refs.get("jiant_xlmr_tatoeba_acc")
    assert bucc.values == {"de": 0.777, "fr": 0.627, "ru": 0.792, "zh": 0.665} and bucc.scale == 100
    assert len(tatoeba.values) == 36 and tatoeba.values["de"] == 0.639 and tatoeba.values["sw"] == 0.079
    assert bucc.role == tatoeba.role == "sanity"


def test_directional_claims_cover_the_abstract(refs):
    directional = {r.id for r in refs if r.kind == "directional" and r.role == "claim"}
    assert {"best_intermediate_tasks", "retrieval_gains_largest", "qa_moderate_gains", "multi_task_small_additional",
            "mlm_not_consistently_better", "translated_not_consistently_better", "best_per_target_improves"} <= directional


def test_unverified_figures_are_never_pass_fail(refs):
    unverified = [r for r in refs if r.evidence in R.UNVERIFIED_EVIDENCE]
    assert unverified, "the [UNVERIFIED] recollections are listed (as context)"
    assert all(r.role == "context" and not r.scored for r in unverified)


def test_every_numeric_entry_states_a_tolerance(refs):
    for r in refs:
        if r.kind == "numeric":
            assert r.tolerance["abs"] >= 0 and r.tolerance["applies_to"], r.id


def test_every_rule_type_is_implemented_by_verify():
    assert set(R.RULES) == set(rules.RULES)


@pytest.mark.skipif(not RESEARCH.exists(), reason="research notes not present in this checkout")
def test_no_number_is_invented():
    """Every published value appears, as written, in the research notes."""
    text = (RESEARCH / "paper_spec.md").read_text() + (RESEARCH / "seed_refs.md").read_text()
    for r in R.load():
        for key, v in r.values.items():
            forms = {f"{v:g}", f"{v:.1f}"} | ({f"{v:.3f}".lstrip("0")} if 0 < v < 1 else set())
            assert any(re.search(rf"(?<![\d.]){re.escape(f)}(?!\d)", text) for f in forms), f"{r.id}.{key} = {v} not in the research notes"


# ---- validation errors name the entry and the field ------------------------------------------


def _err(raw) -> str:
    with pytest.raises(R.ReferencesError) as e:
        R.validate(raw, "references.yaml")
    return str(e.value)


def _entry(raw, ref_id):
    return next(e for e in raw["references"] if e["id"] == ref_id)


def test_missing_version(raw):
    del raw["version"]
    assert "version: missing" in _err(raw)


@pytest.mark.parametrize(
    "ref_id, change, expected",
    [
        ("xtreme_test_xnli", lambda e: e.pop("claim"), "(id 'xtreme_test_xnli'): claim: missing"),
        ("xtreme_test_xnli", lambda e: e.update(evidence="[maybe]"), "(id 'xtreme_test_xnli'): evidence: '[maybe]' is not one of"),
        ("xtreme_test_xnli", lambda e: e["tolerance"].update({"abs": "two"}), "(id 'xtreme_test_xnli'): tolerance.abs: expected a number >= 0, got 'two'"),
        ("xtreme_test_xnli", lambda e: e["tolerance"].pop("abs"), "(id 'xtreme_test_xnli'): tolerance.abs: missing"),
        ("xtreme_test_xnli", lambda e: e["values"].update({"xstilts": "80.4"}), "values.xstilts: expected a number"),
        ("xtreme_test_xnli", lambda e: e.update(task="xnlii"), "(id 'xtreme_test_xnli'): task: unknown task 'xnlii'"),
        ("xtreme_test_xnli", lambda e: e.update(colour="red"), "(id 'xtreme_test_xnli'): colour: unknown field"),
        ("xtreme_test_xnli", lambda e: e["comparison"].pop("xlmr"), "comparison.xlmr: missing"),
        ("unverified_xtreme_scores", lambda e: e.update(role="claim"), "(id 'unverified_xtreme_scores'): role: evidence [UNVERIFIED] may only be used as role 'context'"),
        ("best_intermediate_tasks", lambda e: e["rule"].update(type="vibes"), "(id 'best_intermediate_tasks'): rule.type: 'vibes' is not one of"),
        ("best_intermediate_tasks", lambda e: e["rule"].pop("families"), "rule.families: missing"),
        ("best_intermediate_tasks", lambda e: e["rule"].update(top=3), "rule.top: unknown parameter"),
        ("sota_june_2020", lambda e: e.pop("context_reason"), "(id 'sota_june_2020'): context_reason: missing"),
    ],
)
def test_field_errors(raw, ref_id, change, expected):
    change(_entry(raw, ref_id))
    msg = _err(raw)
    assert msg.startswith("references.yaml: references[") and expected in msg, msg


def test_duplicate_ids(raw):
    raw["references"].append(copy.deepcopy(raw["references"][0]))
    assert f"id: duplicate id {raw['references'][0]['id']!r}" in _err(raw)


def test_yaml_boolean_keys_are_caught(tmp_path):
    path = tmp_path / "refs.yaml"
    path.write_text(
        "version: 1\nreferences:\n  - {id: x, kind: numeric, role: sanity, claim: c, evidence: '[V]', source: {url: u}, split: test,\n"
        "     unit: u, values: {no: 1.0}, tolerance: {abs: 1, applies_to: a}, rule: {type: none}}\n"
    )
    with pytest.raises(R.ReferencesError, match=r"refs.yaml: references\[0\] \(id 'x'\): values: key False is not a string"):
        R.load(str(path))


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(R.ReferencesError, match="not found"):
        R.load(str(tmp_path / "nope.yaml"))
    (tmp_path / "bad.yaml").write_text("version: [1\n")
    with pytest.raises(R.ReferencesError, match="bad.yaml: not valid YAML"):
        R.load(str(tmp_path / "bad.yaml"))
