"""verify: claim-by-claim comparison on small synthetic outputs folders (no training)."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.fake_outputs import BASE, GAINS, MULT, QA_F1_OFFSET, RETRIEVAL, make_outputs, params_for
from xstilts import config, references, verify

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def embedded_params():
    return params_for(config.load(str(ROOT / "params.yaml")))


@pytest.fixture(scope="module")
def paper_params():
    """The paper profile with the fake outputs' languages and seeds (verify reads only the phase-3
    outputs these params define)."""
    raw = config.to_dict(config.load(str(ROOT / "configs" / "paper.yaml")))
    raw["data"]["languages"], raw["target"]["seeds"] = ["en", "de", "es"], [0, 1]
    return config.from_dict(raw)


def by_id(df: pd.DataFrame) -> dict:
    return {r.id: r for r in df.itertuples()}


# ---- embedded profile ----------------------------------------------------------------------


def test_embedded_numeric_not_run_with_the_stated_reason(tmp_path, embedded_params):
    make_outputs(tmp_path)
    df = verify.verify(str(tmp_path), None, "embedded", embedded_params)
    assert list(df.columns) == verify.COLUMNS and set(df.status) <= set(verify.STATUSES)
    assert len(df) == len(references.load())
    numeric = df[df.kind == "numeric"]
    assert len(numeric) > 10
    assert (numeric.status == "not run").all()
    assert (numeric.reason == "embedded profile: synthetic benchmark, not comparable to published numbers").all()


def test_embedded_directional_claims_are_checked(tmp_path, embedded_params):
    make_outputs(tmp_path)
    rows = by_id(verify.verify(str(tmp_path), None, "embedded", embedded_params))
    for ref_id in ("best_intermediate_tasks", "retrieval_gains_largest", "qa_moderate_gains", "multi_task_small_additional", "best_per_target_improves"):
        assert rows[ref_id].status == "reproduced", (ref_id, rows[ref_id].reason)
    assert "hellaswag +3.87 > mnli" in rows["best_intermediate_tasks"].observed
    # the embedded profile has no MLM / translated settings: those claims cannot be checked
    for ref_id in ("mlm_not_consistently_better", "translated_not_consistently_better"):
        assert rows[ref_id].status == "not run" and "intermediate." in rows[ref_id].reason


def test_profile_comes_from_params(tmp_path, embedded_params):
    make_outputs(tmp_path)
    df = verify.verify(str(tmp_path), None, None, embedded_params)
    assert (df[df.kind == "numeric"].reason == verify.EMBEDDED_REASON).all()


def test_directional_claims_can_fail(tmp_path, embedded_params):
    gains = {**GAINS, "qqp": 5.0, "multi": 1.0}  # qqp best single task; multi worse than the best single
    mult = {**MULT, "bucc2018": 0.1, "tatoeba": 0.1}  # retrieval gains smallest
    make_outputs(tmp_path, gains=gains, mult=mult)
    rows = by_id(verify.verify(str(tmp_path), None, "embedded", embedded_params))
    assert rows["best_intermediate_tasks"].status == "not reproduced"
    assert "top 3: qqp" in rows["best_intermediate_tasks"].reason
    assert rows["retrieval_gains_largest"].status == "not reproduced"
    assert rows["multi_task_small_additional"].status == "not reproduced"
    assert rows["qa_moderate_gains"].status == "not reproduced"  # QA gains now exceed retrieval gains


def test_missing_settings_make_claims_not_run(tmp_path, embedded_params):
    make_outputs(tmp_path, gains={"none": 0.0, "qqp": 1.0, "ccg": 0.5})
    rows = by_id(verify.verify(str(tmp_path), None, "embedded", embedded_params))
    assert rows["best_intermediate_tasks"].status == "not run" and "none of the claimed" in rows["best_intermediate_tasks"].reason
    assert rows["multi_task_small_additional"].status == "not run" and "no multi-task setting" in rows["multi_task_small_additional"].reason


def test_context_entries_are_never_scored(tmp_path, paper_params):
    make_outputs(tmp_path)
    df = verify.verify(str(tmp_path), None, "paper", paper_params)
    ctx = df[df.role == "context"]
    assert len(ctx) and (ctx.status == "not run").all() and ctx.reason.str.startswith("context only").all()
    unverified = df[df.evidence == "[UNVERIFIED]"]
    assert (unverified.status == "not run").all() and unverified.reason.str.contains("UNVERIFIED").all()


def test_variants_not_consistently_better(tmp_path, embedded_params):
    raw = config.to_dict(embedded_params)
    raw["intermediate"]["settings"]["multi_mlm"] = list(raw["intermediate"]["settings"]["multi"])
    raw["intermediate"]["mlm_settings"] = ["multi_mlm"]
    raw["intermediate"]["settings"]["mnli_tt"] = ["mnli_translated"]
    raw["intermediate"]["translated_settings"] = ["mnli_tt"]
    params = config.from_dict(raw)
    tasks = {s: v for s, v in raw["intermediate"]["settings"].items()}
    # MLM variant better everywhere (consistently) -> claim not reproduced; translated mixed -> reproduced
    cells = {("mnli_tt", t): (3.0 if t in ("xnli", "pawsx") else -1.0) for t in BASE}
    make_outputs(tmp_path, gains={**GAINS, "multi_mlm": 4.0, "mnli_tt": 0.0}, cell_gains=cells, settings_tasks=tasks)
    rows = by_id(verify.verify(str(tmp_path), None, "embedded", params))
    assert rows["mlm_not_consistently_better"].status == "not reproduced"
    assert "multi_mlm vs multi: better on 9/9" in rows["mlm_not_consistently_better"].observed
    assert rows["translated_not_consistently_better"].status == "reproduced"
    assert "mnli_tt vs mnli: better on 2/9" in rows["translated_not_consistently_better"].observed
    # variants are not single-task settings: the ranking claim ignores them
    assert "mnli_tt" not in rows["best_intermediate_tasks"].observed


# ---- paper profile: numeric references -------------------------------------------------------

PUBLISHED = {"xnli": (80.4, 79.2), "pawsx": (87.7, 86.4), "panx": (64.7, 65.4), "xquad": (77.2, 76.6), "mlqa": (72.3, 71.6), "tydiqa": (76.0, 65.1)}
QA = ("xquad", "mlqa", "tydiqa")


def paper_outputs(tmp_path, paper_params, shift=None, tatoeba_shift=1.0, setting_shift=None):
    """Baseline = the published XLM-R numbers, mnli = the published X-STILTs numbers on every
    target (the best setting), XTREME-style mean gain over the 9 tasks = 5.4; every other setting
    slightly below mnli. QA tables hold (EM+F1)/2 = F1 - 5; the references are F1."""
    shift = shift or {}
    settings = paper_params.intermediate.settings
    base = {t: xlmr - (QA_F1_OFFSET if t in QA else 0.0) + shift.get(t, 0.0) for t, (_, xlmr) in PUBLISHED.items()}
    base |= {"udpos": 72.0, "bucc2018": 70.0, "tatoeba": 0.0}
    best = {t: x - xlmr for t, (x, xlmr) in PUBLISHED.items()} | {"udpos": 1.0, "bucc2018": 16.8, "tatoeba": 16.8}
    setting_shift = setting_shift or {}
    cells = {(s, t): (g if s == "mnli" else g - 0.5) + setting_shift.get(s, 0.0) for s in settings if s != "none" for t, g in best.items()}
    tatoeba = references.load().get("jiant_xlmr_tatoeba_acc").values
    offsets = {("tatoeba", lang): 100 * v + tatoeba_shift for lang, v in tatoeba.items()}
    offsets |= {("bucc2018", lang): 0.0 for lang in ("de", "fr", "ru", "zh")}
    langs = {"tatoeba": sorted(tatoeba), "bucc2018": ["de", "fr", "ru", "zh"], "tydiqa": ["en"]}  # TyDi QA has no de/es
    return make_outputs(tmp_path, gains={s: 0.0 for s in settings}, base=base, langs=("en", "de", "es"), cell_gains=cells,
                        task_langs=langs, lang_offsets=offsets, settings_tasks={k: list(v) for k, v in settings.items()}, params=paper_params)


def test_paper_numeric_references_reproduced(tmp_path, paper_params):
    paper_outputs(tmp_path, paper_params)
    rows = by_id(verify.verify(str(tmp_path), None, "paper", paper_params))
    for task in PUBLISHED:
        row = rows[f"xtreme_test_{task}"]
        assert row.status == "reproduced", (task, row.reason)
        assert "our mnli" in row.observed and "our none" in row.observed
    assert "xstilts: ours 76.00 vs 76 (+0.00)" in rows["xtreme_test_tydiqa"].reason  # F1 read from phase3 metrics
    assert rows["xtreme_best_per_target_gain"].status == "reproduced", rows["xtreme_best_per_target_gain"].reason
    assert "+5.40 over 9 tasks" in rows["xtreme_best_per_target_gain"].observed
    assert rows["n_intermediate_tasks"].status == "reproduced"
    assert rows["jiant_xlmr_tatoeba_acc"].status == "reproduced" and "36/36 languages" in rows["jiant_xlmr_tatoeba_acc"].observed
    bucc = rows["jiant_xlmr_bucc_f1"]  # dev oracle F1 71 everywhere (test 70 + 1) vs jiant's mean 71.525 (fractions x 100)
    assert bucc.status == "reproduced" and "bucc2018 dev_oracle_f1 mean over 4/4 languages: ours 71.00 vs 71.53" in bucc.observed, bucc.observed
    assert rows["best_per_target_improves"].status == "reproduced"


def test_the_paper_grid_decides_the_mlm_and_translated_data_claims(tmp_path, paper_params):
    """configs/paper.yaml runs multi + MLM and the two translate-train settings, each paired with the
    setting of the same English tasks: verify decides the abstract's two comparisons on a paper run."""
    assert paper_params.intermediate.mlm_settings == ["multi_mlm"]
    assert paper_params.intermediate.translated_settings == ["mnli_translate_train", "squad_v1_translate_train"]
    paper_outputs(tmp_path, paper_params)  # every variant equal to its English counterpart or below it (8 zero-shot targets: the fake TyDi QA is English only)
    rows = by_id(verify.verify(str(tmp_path), None, "paper", paper_params))
    mlm, translated = rows["mlm_not_consistently_better"], rows["translated_not_consistently_better"]
    assert mlm.status == "reproduced" and "multi_mlm vs multi: better on 0/8 targets" in mlm.observed, (mlm.status, mlm.reason)
    assert translated.status == "reproduced", (translated.status, translated.reason)
    assert "mnli_translate_train vs mnli: better on 0/8" in translated.observed and "squad_v1_translate_train vs squad_v1: better on 0/8" in translated.observed
    paper_outputs(tmp_path, paper_params, setting_shift={"multi_mlm": 1.0, "squad_v1_translate_train": 1.0})  # better on every target
    rows = by_id(verify.verify(str(tmp_path), None, "paper", paper_params))
    assert rows["mlm_not_consistently_better"].status == "not reproduced"
    assert rows["translated_not_consistently_better"].status == "not reproduced"
    assert "squad_v1_translate_train vs squad_v1: better on 8/8" in rows["translated_not_consistently_better"].observed


def test_each_claim_states_the_average_it_uses(tmp_path, paper_params):
    """Zero-shot gain claims: non-English languages; claims quoted as XTREME scores: XTREME's average,
    English included. The verdict table (claims.csv, claims.md) shows which."""
    from xstilts.verify import outputs
    from xstilts.verify.rules import XTREME_AVERAGE, ZERO_SHOT_AVERAGE

    paper_outputs(tmp_path, paper_params)
    df = verify.verify(str(tmp_path), None, "paper", paper_params)
    rows = by_id(df)
    for ref_id in ("xtreme_best_per_target_gain", "xtreme_test_xnli", "xtreme_test_tydiqa"):
        assert rows[ref_id].average == XTREME_AVERAGE and "English included" in rows[ref_id].average
    for ref_id in ("best_intermediate_tasks", "retrieval_gains_largest", "qa_moderate_gains", "multi_task_small_additional"):
        assert rows[ref_id].average == ZERO_SHOT_AVERAGE and "non-English" in rows[ref_id].average
    assert all(isinstance(a, str) for a in df.average)
    outputs.write(df, str(tmp_path / "verify"), "paper")
    md = (tmp_path / "verify" / "claims.md").read_text()
    assert "| average |" in md.splitlines()[4] and ZERO_SHOT_AVERAGE in md
    assert pd.read_csv(tmp_path / "verify" / "claims.csv").set_index("id").average["xtreme_test_xnli"] == XTREME_AVERAGE


def test_bucc_sanity_reference_reads_the_dev_oracle_f1_not_the_test_f1(tmp_path, paper_params):
    """jiant's BUCC figure is dev F1 at the oracle threshold: verify compares that, never our test F1."""
    paper_outputs(tmp_path, paper_params)
    path = tmp_path / "retrieval" / "metrics.json"
    m = json.loads(path.read_text())
    for per_lang in m["none"]["bucc2018"].values():
        per_lang["dev_oracle_f1"] = 90.0  # test F1 stays 70 (within 3 of 71.5): only the dev oracle can fail it
    path.write_text(json.dumps(m))
    bucc = by_id(verify.verify(str(tmp_path), None, "paper", paper_params))["jiant_xlmr_bucc_f1"]
    assert bucc.status == "not reproduced" and "ours 90.00 vs 71.53" in bucc.observed, bucc.observed
    for per_lang in m["none"]["bucc2018"].values():
        del per_lang["dev_oracle_f1"]  # a retrieval run from before dev_oracle_f1: not run, never the test F1
    path.write_text(json.dumps(m))
    bucc = by_id(verify.verify(str(tmp_path), None, "paper", paper_params))["jiant_xlmr_bucc_f1"]
    assert bucc.status == "not run" and "dev_oracle_f1" in bucc.reason, (bucc.status, bucc.reason)


def test_qa_f1_read_from_the_params_group_folder_only(tmp_path, paper_params):
    """phase3/<setting>/<group>/<target>/metrics.json as the params' target.groups place it; the
    folder of another profile's grouping (embedded: one group 'all') is never read."""
    paper_outputs(tmp_path, paper_params)
    good = tmp_path / "phase3" / "none" / "tydiqa" / "tydiqa" / "metrics.json"
    assert good.exists()
    stale = tmp_path / "phase3" / "none" / "all" / "tydiqa"
    stale.mkdir(parents=True)
    m = json.loads(good.read_text())
    for run in m["seeds"].values():
        for per_lang in run["scores"].values():
            for s in per_lang.values():
                s["f1"] = 0.0
    (stale / "metrics.json").write_text(json.dumps(m))
    rows = by_id(verify.verify(str(tmp_path), None, "paper", paper_params))
    assert rows["xtreme_test_tydiqa"].status == "reproduced" and "xstilts: ours 76.00 vs 76 (+0.00)" in rows["xtreme_test_tydiqa"].reason
    good.unlink()  # only the leftover remains: not read, and the reason names the expected file
    rows = by_id(verify.verify(str(tmp_path), None, "paper", paper_params))
    assert rows["xtreme_test_tydiqa"].status == "not run" and str(good) in rows["xtreme_test_tydiqa"].reason


def test_leftover_settings_in_the_tables_are_ignored(tmp_path, embedded_params, capsys):
    """Analysis tables holding a setting the params no longer define (a leftover): it takes no
    part in any claim, and a note names it."""
    make_outputs(tmp_path)
    clean = verify.verify(str(tmp_path), None, "embedded", embedded_params)
    make_outputs(tmp_path, gains={**GAINS, "cosmosqa": 50.0})
    capsys.readouterr()
    with_leftover = verify.verify(str(tmp_path), None, "embedded", embedded_params)
    assert "cosmosqa" in capsys.readouterr().err
    pd.testing.assert_frame_equal(clean, with_leftover)
    assert not with_leftover.observed.str.contains("cosmosqa").any()


def test_paper_numeric_references_fail_outside_tolerance(tmp_path, paper_params):
    paper_outputs(tmp_path, paper_params, shift={"xnli": 3.0}, tatoeba_shift=5.0)
    rows = by_id(verify.verify(str(tmp_path), None, "paper", paper_params))
    xnli = rows["xtreme_test_xnli"]
    assert xnli.status == "not reproduced" and "xlmr: ours 82.20 vs 79.2 (+3.00)" in xnli.reason and "outside ±2" in xnli.reason
    assert rows["xtreme_test_pawsx"].status == "reproduced"
    assert rows["jiant_xlmr_tatoeba_acc"].status == "not reproduced" and "+5.00" in rows["jiant_xlmr_tatoeba_acc"].reason


def test_paper_numeric_needs_all_nine_tasks(tmp_path, paper_params):
    paper_outputs(tmp_path, paper_params)
    res = pd.read_csv(tmp_path / "analysis" / "results.csv")
    res[res.task != "tatoeba"].to_csv(tmp_path / "analysis" / "results.csv", index=False)
    rows = by_id(verify.verify(str(tmp_path), None, "paper", paper_params))
    assert rows["xtreme_best_per_target_gain"].status == "not run" and "only 8 of the 9" in rows["xtreme_best_per_target_gain"].reason


def test_qa_f1_needs_phase3_metrics(tmp_path, paper_params):
    paper_outputs(tmp_path, paper_params)
    import shutil

    shutil.rmtree(tmp_path / "phase3")
    rows = by_id(verify.verify(str(tmp_path), None, "paper", paper_params))
    assert rows["xtreme_test_xquad"].status == "not run" and "(EM+F1)/2 only" in rows["xtreme_test_xquad"].reason
    assert rows["xtreme_test_xnli"].status == "reproduced"  # accuracy is the major score: the tables suffice


# ---- outputs and CLI ---------------------------------------------------------------------------


def test_run_writes_claims_and_counts(tmp_path, embedded_params):
    make_outputs(tmp_path)
    out = verify.run(str(tmp_path), str(tmp_path / "verify"), embedded_params)
    claims = pd.read_csv(tmp_path / "verify" / "claims.csv")
    assert list(claims.columns) == verify.COLUMNS and len(claims) == len(out["claims"])
    metrics = json.loads((tmp_path / "verify" / "metrics.json").read_text())
    assert set(metrics["counts"]) == set(verify.STATUSES) and sum(metrics["counts"].values()) == metrics["total"] == len(claims)
    assert metrics["profile"] == "embedded" and metrics["references_version"] == references.load().version
    md = (tmp_path / "verify" / "claims.md").read_text()
    assert md.startswith("# Claims vs published figures (embedded profile)") and "| best_intermediate_tasks | reproduced |" in md


def test_results_dir_may_be_the_analysis_folder(tmp_path, embedded_params):
    make_outputs(tmp_path)
    a = verify.verify(str(tmp_path), None, "embedded", embedded_params)
    b = verify.verify(str(tmp_path / "analysis"), None, "embedded", embedded_params)
    pd.testing.assert_frame_equal(a, b)


def test_cli_main(tmp_path, capsys):
    make_outputs(tmp_path / "outputs")
    code = verify.main(["--results", str(tmp_path / "outputs"), "--params", str(ROOT / "params.yaml"), "--out", str(tmp_path / "v")])
    assert code == 0 and (tmp_path / "v" / "claims.csv").exists()
    assert "reproduced" in capsys.readouterr().out
    assert verify.main(["--results", str(tmp_path / "missing"), "--params", str(ROOT / "params.yaml"), "--out", str(tmp_path / "v")]) == 2
    assert "run the analysis stage first" in capsys.readouterr().err


def test_module_cli_compares_without_loading_torch(tmp_path):
    """`python -m xstilts.verify` (and `make verify`) read tables only: torch, seconds to load, comes
    with the retrieval metrics and never on this path (python -X importtime lists every import)."""
    make_outputs(tmp_path / "outputs")
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "xstilts.verify", "--results", str(tmp_path / "outputs"),
                          "--params", str(ROOT / "params.yaml"), "--out", str(tmp_path / "v")], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "reproduced" in res.stdout and (tmp_path / "v" / "claims.csv").exists()
    imported = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    assert "xstilts.verify.rules" in imported and not {m for m in imported if m.split(".")[0] in ("torch", "transformers", "matplotlib")}


def test_cli_strict_fails_on_a_not_reproduced_claim(tmp_path, embedded_params):
    import yaml

    make_outputs(tmp_path / "outputs", gains={**GAINS, "qqp": 5.0})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(config.to_dict(embedded_params)))  # the fake's settings
    args = ["--results", str(tmp_path / "outputs"), "--params", str(tmp_path / "params.yaml"), "--out", str(tmp_path / "v")]
    assert verify.main(args) == 0
    assert verify.main(args + ["--strict"]) == 1


def test_retrieval_tasks_are_in_the_fake(tmp_path):
    """Guard for the fixtures above: retrieval rows exist on test only, with seed 0."""
    make_outputs(tmp_path)
    s = pd.read_csv(tmp_path / "analysis" / "scores.csv")
    r = s[s.task.isin(RETRIEVAL)]
    assert set(r.split) == {"test"} and set(r.seed) == {0} and "en" not in set(r.lang)
