"""How much training each profile plans: shared phase-3 runs, the multi-task cap, ANLI+'s weight."""

import math

from xstilts import config, pipeline


def test_paper_profile_trains_the_squad_v1_fine_tune_once_for_xquad_and_mlqa():
    params = config.load("configs/paper.yaml")
    units = [u for g in params.target.groups.values() for u in pipeline.training_units(params, g)]
    # every target evaluated once, and the SQuAD v1.1 run planned once for both XQuAD and MLQA
    assert sorted(t for u in units for t in u) == sorted(params.target.tasks)
    assert [u for u in units if "xquad" in u or "mlqa" in u] == [["xquad", "mlqa"]]
    assert len(units) == len(params.target.tasks) - 1
