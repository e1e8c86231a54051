import dataclasses

import pytest

from xstilts import config, recipe

ROWS = recipe.parse("docs/recipe.md")
# the loaded configuration, defaults included: a key the file leaves out still holds a value
PAPER = dataclasses.asdict(config.load("configs/paper.yaml"))


def test_configs_paper_yaml_holds_every_value_of_the_recipe_table():
    assert len(ROWS) >= 30
    assert recipe.problems(ROWS, PAPER) == []


def test_the_table_covers_the_recipe_engine_keys_and_the_two_comparisons():
    keys = {r.key for r in ROWS}
    for key in ("model.pooler", "engine.bf16", "engine.tf32", "engine.length_grouping", "engine.merge_micro_batches",
                "intermediate.sampler.kind", "intermediate.mlm_settings", "intermediate.translated_settings"):
        assert key in keys


def test_a_changed_value_a_missing_reason_and_a_missing_test_are_each_reported():
    raw = dataclasses.asdict(config.load("configs/paper.yaml"))
    raw["intermediate"]["sampler"]["kind"] = "capped_proportional"
    rows = [r if r.key != "target.seeds" else recipe.Row(**{**r.__dict__, "reason": ""}) for r in ROWS]
    rows.append(recipe.Row("x", "", "", recipe.CODE, "", "", False, "", "tests/test_recipe.py::no_such_test", 999))
    found = recipe.problems(rows, raw)
    assert len(found) == 3
    assert any("intermediate.sampler.kind is 'capped_proportional'" in p for p in found)
    assert any("(seeds): a departure without a reason" in p for p in found)
    assert any("no_such_test" in p for p in found)


def test_a_malformed_row_is_refused_with_its_line(tmp_path):
    path = tmp_path / "recipe.md"
    path.write_text("| " + " | ".join(recipe.COLUMNS) + " |\n|---|\n| a | b | c | d | e | f | maybe | h | i |\n")
    with pytest.raises(recipe.RecipeError, match=r"recipe.md:3: departure must be yes or no, not 'maybe'"):
        recipe.parse(str(path))
