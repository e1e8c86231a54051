"""The embedded synthetic benchmark: a deterministic multilingual world rendered in English and
four synthetic languages, written in the Hub schemas of every dataset the pipeline reads.

    from xstilts.synthetic import SyntheticConfig, generate
    manifest = generate("data/embedded", SyntheticConfig(seed=0))

Modules: :mod:`world` (entities, facts, meanings), :mod:`grammar` (languages and rendering),
:mod:`tasks` (examples per task format), :mod:`writer` (Hub-schema parquet, corpus, manifest).
"""

from xstilts.synthetic.writer import VERSION, SyntheticConfig, SyntheticSizes, generate

__all__ = ["SyntheticConfig", "SyntheticSizes", "generate", "VERSION"]
