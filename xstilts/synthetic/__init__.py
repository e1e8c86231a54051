"""The embedded synthetic benchmark: a deterministic multilingual world rendered in English and
four synthetic languages, written in the Hub schemas of every dataset the pipeline reads.

    from xstilts.synthetic import SyntheticConfig, generate
    manifest = generate("data/embedded", SyntheticConfig(seed=0))

Modules: :mod:`world` (entities, facts, meanings), :mod:`grammar` (languages and rendering),
one module per task family drawing labelled items from the world and rendering them in a language
(:mod:`nli`, :mod:`paraphrase`, :mod:`qa`, :mod:`multiple_choice`, :mod:`tagging`, :mod:`bitext`;
:mod:`sentences` draws the free sentences they and the corpus share, :mod:`common` holds item ids
and plain-text rendering), :mod:`writer` (Hub-schema parquet, corpus, manifest).
"""

from xstilts.synthetic.writer import VERSION, SyntheticConfig, SyntheticSizes, generate

__all__ = ["SyntheticConfig", "SyntheticSizes", "generate", "VERSION"]
