"""The paper profile, rehearsed offline on CPU (``make rehearse``).

``fixtures`` holds a few rows of every dataset in the Hub's own schemas (the task tests read them
too); ``hubcache`` writes them, and a tiny XLM-R in ``xlm-roberta-large``'s file layout, into a
Hugging Face cache; ``runner`` runs ``dvc repro`` of every stage on ``configs/paper.yaml`` plus the
size-only overlay ``configs/rehearsal.yaml`` in a temporary git copy of the repository.
"""
