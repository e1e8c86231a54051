"""The DVC pipeline's independent stages on every GPU a user has (``xstilts.cli cluster``).

``dvc repro`` runs one stage at a time and holds the repository lock for the whole run, so two
``dvc repro --single-item`` processes cannot share a workspace. Here the scheduler runs each stage's
own command (as ``dvc repro`` would, outs removed first) and DVC only records the result:
``dvc commit -f <stage>`` per finished stage, one at a time, which writes the same ``dvc.lock``
entry and caches the same outs as ``dvc repro`` (DVC 3: ``Stage.save`` + ``Stage.commit``).

Modules: ``dag`` (which stages to run and in what order), ``resources`` (the ``cluster:`` params:
GPUs, CPUs, memory, time per stage kind), ``ledger`` (the run's state on the shared file system),
``record`` (DVC's side: removing stale outs, committing), ``local`` (N slots on one machine),
``slurm`` (one sbatch job per stage, ``afterok`` dependencies, requeue), ``cli``.
"""
