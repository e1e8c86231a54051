"""The notebooks' walkthrough: functions that read a stage's outputs and return DataFrames and
matplotlib figures, one module per concept (the data, pretraining, the intermediate mixture, target
transfer, retrieval, results). They only read what the stages wrote; nothing here trains.

Figures are built with :class:`matplotlib.figure.Figure` (not pyplot) so a notebook shows each one
once, as the cell's value, and no global figure state leaks between cells.
"""
