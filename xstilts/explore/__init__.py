"""The notebooks' walkthrough: functions that read a stage's outputs and return DataFrames and
matplotlib figures, one module per concept (the data, pretraining, the intermediate mixture, target
transfer, retrieval, results). They only read what the stages wrote; nothing here trains.

Figures are built with :class:`matplotlib.figure.Figure` (not pyplot) so a notebook shows each one
once, as the cell's value, and no global figure state leaks between cells.
"""

import os


def work_from_repo_root(start: str | None = None) -> str:
    """Change to the repository root (the folder holding dvc.yaml) and return it.

    JupyterLab starts a notebook's kernel in the notebook's folder (``notebooks/``), papermill
    under DVC in the repository root; the stage parameters are paths relative to the root, so a
    notebook opened in the lab must move there first. Outside a checkout nothing changes."""
    here = os.path.abspath(start or os.getcwd())
    d = here
    while not os.path.exists(os.path.join(d, "dvc.yaml")):
        parent = os.path.dirname(d)
        if parent == d:
            return here
        d = parent
    os.chdir(d)
    return d
