"""Follow-up research questions as ready experiment grids (issue #4 item 5).

One module per question; each declares nothing about running (presets in ``configs/studies/``
hold the arms) and provides ``check(options, arm_params)`` and ``analyse(arms, options, out_dir)``.
Running goes through the DVC experiment queue (:mod:`xstilts.studies.runner`) or, one workspace per
arm, through the cluster backends (:mod:`xstilts.studies.on_cluster`, :mod:`xstilts.studies.workspace`).

===========================  ====================================================================
rq1 ``rq1_num_tasks``        number of intermediate tasks (nested subsets) vs single tasks
rq2 ``rq2_multilingual``     multilingual vs English-only intermediate data: low-resource spread
rq3 ``rq3_nli_vs_qa``        NLI vs QA intermediate tasks across targets
rq4 ``rq4_size_gain``        does the intermediate-task gain shrink from a small to a large model
rq5 ``rq5_size_gap``         does model size shrink the gap to target-language fine-tuning
===========================  ====================================================================
"""

from xstilts.studies import rq1_num_tasks, rq2_multilingual, rq3_nli_vs_qa, rq4_size_gain, rq5_size_gap

STUDIES = {
    "rq1_num_tasks": rq1_num_tasks,
    "rq2_multilingual": rq2_multilingual,
    "rq3_nli_vs_qa": rq3_nli_vs_qa,
    "rq4_size_gain": rq4_size_gain,
    "rq5_size_gap": rq5_size_gap,
}
