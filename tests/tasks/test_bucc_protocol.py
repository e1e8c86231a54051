"""BUCC's threshold is tuned on BUCC's sample set (XTREME): from XTREME's download layout when
supplied, else by the documented held-out rule on mteb/BUCC's only split (a protocol deviation)."""

import os
import shutil

import pytest

from xstilts.rehearsal.fixtures import write_bucc_sample
from xstilts.stores import LocalStore, MissingDataError
from xstilts.tasks import TASKS, bucc2018
from xstilts.tasks.base import BitextExample, SchemaError


@pytest.fixture
def no_sample(fixture_root, tmp_path):
    """The fixture mirror without the bucc2018/ folder: mteb/BUCC alone, as on the Hub."""
    root = tmp_path / "mirror"
    shutil.copytree(fixture_root, root, ignore=lambda d, names: ["bucc2018"] if os.path.samefile(d, fixture_root) else [])
    return LocalStore(str(root))


def corpus(n_pairs=400, distractors=300) -> BitextExample:
    sources = [f"s{i}" for i in range(n_pairs + distractors)]
    targets = [f"t{j}" for j in range(n_pairs + 2 * distractors)]
    gold = [(i, (7 * i) % n_pairs) for i in range(n_pairs)] + [(0, n_pairs + 1)]  # s0 also pairs with a second target
    return BitextExample(id="c", sources=sources, targets=targets, gold=gold)


def test_held_out_rule_splits_one_corpus_into_two_disjoint_comparable_corpora():
    c = corpus()
    dev, test = (bucc2018.held_out_part(c, "de", tune=t) for t in (True, False))
    assert set(dev.source_ids).isdisjoint(test.source_ids) and set(dev.target_ids).isdisjoint(test.target_ids)
    assert len(dev.sources) + len(test.sources) == len(c.sources) and len(dev.targets) + len(test.targets) == len(c.targets)
    assert 0.05 < len(dev.gold) / len(c.gold) < 0.16  # about a tenth tunes
    # every gold pair kept is one of the corpus's, mapped back through the ids; none is invented
    originals = {(f"de-{i + 1:09d}", f"en-{j + 1:09d}") for i, j in c.gold}
    kept = {(p.source_ids[i], p.target_ids[j]) for p in (dev, test) for i, j in p.gold}
    assert kept <= originals and len(originals - kept) <= 1  # only a pair straddling the parts is dropped
    assert len(dev.sources) > len(dev.gold) and len(test.sources) > len(test.gold)  # distractors on both sides
    assert bucc2018.held_out_part(c, "de", tune=True) == dev  # deterministic
    assert bucc2018.held_out_part(c, "fr", tune=True).gold != dev.gold  # drawn per language


def test_held_out_rule_on_a_corpus_too_small_for_it_fails_naming_the_sample_set():
    """A tenth of three gold pairs is likely none: an empty tuning part must not reach the mining
    (it failed there with a bare shape error) but say what to supply."""
    c = corpus(n_pairs=3, distractors=0)
    with pytest.raises(ValueError, match=r"bucc2018 de: the held-out rule gives an empty tuning part .*data.local_dirs.bucc2018"):
        bucc2018.held_out_part(c, "de", tune=True)


def test_without_the_sample_set_dev_and_test_are_the_held_out_parts(no_sample, store, monkeypatch):
    with pytest.raises(ValueError, match="too small for it; set data.local_dirs.bucc2018"):
        TASKS["bucc2018"].load(no_sample, "dev", "de")  # a tenth of the fixture's 4 gold pairs is none
    monkeypatch.setattr(bucc2018, "TUNE_SHARE", 2)  # halves, so that the tiny fixture corpus has both parts
    (full,) = TASKS["bucc2018"].load(store, "test", "de")
    (dev,) = TASKS["bucc2018"].load(no_sample, "dev", "de")
    (test,) = TASKS["bucc2018"].load(no_sample, "test", "de")
    assert sorted(dev.sources + test.sources) == sorted(full.sources) and dev.id.endswith("dev")
    assert bucc2018.protocol(no_sample)["deviation"] and "held-out" in bucc2018.protocol(no_sample)["dev"]
    assert not bucc2018.protocol(store)["deviation"]


def test_a_configured_sample_folder_that_is_missing_or_incomplete_fails(fixture_root, tmp_path):
    missing = LocalStore(fixture_root, local_dirs={"bucc2018": str(tmp_path / "nowhere")})
    with pytest.raises(MissingDataError, match="data.local_dirs.bucc2018"):
        TASKS["bucc2018"].load(missing, "dev", "de")
    write_bucc_sample(str(tmp_path / "partial"), {"zh": bucc2018_sample_zh()})
    partial = LocalStore(fixture_root, local_dirs={"bucc2018": str(tmp_path / "partial")})
    with pytest.raises(MissingDataError, match=r"de-en\.dev\.gold"):
        TASKS["bucc2018"].load(partial, "dev", "de")


def bucc2018_sample_zh():
    from xstilts.rehearsal.fixtures import BUCC_SAMPLE

    return BUCC_SAMPLE["zh"]


def test_sample_gold_naming_an_unknown_id_fails(tmp_path, fixture_root):
    src, trg, _ = bucc2018_sample_zh()
    write_bucc_sample(str(tmp_path / "s"), {"zh": (src, trg, [("zh-000000001", "en-000000099")])})
    with pytest.raises(SchemaError, match=r"zh-en\.dev\.gold: line 1 .*en-000000099"):
        TASKS["bucc2018"].load(LocalStore(fixture_root, local_dirs={"bucc2018": str(tmp_path / "s")}), "dev", "zh")


def test_verify_and_report_mark_a_bucc_protocol_deviation(tmp_path, no_sample):
    """The retrieval stage records the rule it used; verify's BUCC claims and the report's results table say so."""
    from pathlib import Path

    from tests.fake_outputs import make_outputs
    from xstilts import config, io, pipeline, report, verify

    params = config.load("params.yaml")
    make_outputs(tmp_path)
    io.write_json(str(tmp_path / "retrieval" / "protocol.json"), pipeline.retrieval_protocols(params, no_sample))
    df = verify.verify(str(tmp_path), None, "embedded", params)
    bucc = df[df.id == "retrieval_gains_largest"].iloc[0]
    assert "bucc2018: protocol deviation" in bucc.reason
    counts = verify.write(df, str(tmp_path / "verify"), "embedded")
    assert "bucc2018" in counts["protocol_deviations"]
    report.write_generated(str(tmp_path / "analysis"), str(tmp_path / "verify"), str(tmp_path / "generated"), params)
    assert "protocol deviation" in Path(tmp_path / "generated" / "results.tex").read_text()


def test_with_the_sample_set_nothing_is_marked(tmp_path, store):
    from tests.fake_outputs import make_outputs
    from xstilts import config, io, pipeline, verify

    params = config.load("params.yaml")
    make_outputs(tmp_path)
    io.write_json(str(tmp_path / "retrieval" / "protocol.json"), pipeline.retrieval_protocols(params, store))
    df = verify.verify(str(tmp_path), None, "embedded", params)
    assert not df.reason.str.contains("protocol deviation").any()
