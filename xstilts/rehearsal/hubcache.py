"""A warm Hugging Face cache, written offline: what a first run with internet would leave behind.

Two parts, both in the layouts the libraries read:

- ``hub/``: the Hub's snapshot layout (``models--xlm-roberta-large/{refs/main, snapshots/<commit>/..,
  blobs/}``, ``datasets--owner--name/...``), read by ``huggingface_hub.snapshot_download`` when
  offline. Repos that still ship a loading script hold it on ``main`` and their parquet files on
  ``refs/convert/parquet`` (``<config>/<split>/0000.parquet``), as the Hub's converter writes them.
- ``datasets/``: the prepared Arrow cache that ``datasets.load_dataset`` reads back offline
  (``<owner>___<name>/<config>/0.0.0/<commit>/``), built by ``datasets``' own parquet builder from the
  snapshot files, with the commit as its hash, as an online load names it.

The model is ``xlm-roberta-large`` at tiny dimensions with the files the real repo ships
(config.json with XLM-R's keys, sentencepiece.bpe.model, tokenizer.json, model.safetensors with
``XLMRobertaForMaskedLM``'s key names, LM head included) and XLM-R's fairseq vocabulary order:
``<s> <pad> </s> <unk>``, then the pieces, ``<mask>`` last. Its weights are random: the rehearsal
proves code paths, not scores.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections import defaultdict

from xstilts.rehearsal import fixtures as fx

SCRIPT_REPOS = {"Rowan/hellaswag": "hellaswag.py", "allenai/cosmos_qa": "cosmos_qa.py"}  # SCRIPT on main (datasets.md)
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # fairseq ids 0-3; <mask> is the last id (250001 in the real model)


# ---- the Hub's snapshot layout -------------------------------------------------------------


def repo_folder(hub_dir: str, repo_type: str, repo_id: str) -> str:
    return os.path.join(hub_dir, f"{repo_type}s--{repo_id.replace('/', '--')}")


def _sha256(data: bytes | str) -> str:
    """Of bytes, or of a file's content (read in blocks: the scale rehearsal's files are large)."""
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    h = hashlib.sha256()
    with open(data, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_snapshot(hub_dir: str, repo_type: str, repo_id: str, files: dict[str, bytes | str], ref: str = "main") -> str:
    """Store ``files`` (path in repo -> bytes, or the path of a file that is moved in) as one commit
    of ``repo_id`` under ``ref``; returns the snapshot folder. Files are content-addressed blobs,
    linked from the snapshot, as ``huggingface_hub`` writes them; the commit id is a hash of the
    content, so rebuilds agree."""
    folder = repo_folder(hub_dir, repo_type, repo_id)
    digests = {path: _sha256(data) for path, data in files.items()}
    listing = hashlib.sha1()
    for path in sorted(files):
        listing.update(path.encode() + b"\0" + bytes.fromhex(digests[path]))
    commit = listing.hexdigest()
    snapshot = os.path.join(folder, "snapshots", commit)
    for path, data in files.items():
        blob = os.path.join(folder, "blobs", digests[path])
        os.makedirs(os.path.dirname(blob), exist_ok=True)
        if isinstance(data, bytes):
            with open(blob, "wb") as f:
                f.write(data)
        else:
            shutil.move(data, blob)
        link = os.path.join(snapshot, path)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.relpath(blob, os.path.dirname(link)), link)
    ref_file = os.path.join(folder, "refs", ref)
    os.makedirs(os.path.dirname(ref_file), exist_ok=True)
    with open(ref_file, "w") as f:
        f.write(commit)
    return snapshot


# ---- the model: xlm-roberta-large, tiny -----------------------------------------------------


def corpus() -> list[str]:
    """Every string of the fixture datasets, the CCG files and the MLM corpus: what the tokenizer is trained on."""
    lines: list[str] = []

    def walk(value):
        if isinstance(value, str):
            if value.strip():
                lines.append(value.strip())
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for s in fx.SPECS:
        walk(s.data)
    lines += [line.split("\t")[0] for split in fx.CCG_FILES.values() for line in split]
    lines += [line for per_lang in fx.MLM_CORPUS.values() for line in per_lang]
    return lines


def train_xlmr_tokenizer(lines: list[str], vocab_size: int):
    """A unigram tokenizer in XLM-R's tokenizer.json shape and id order (``<mask>`` last)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()  # XLM-R: sentencepiece's precompiled nmt_nfkc charsmap
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size - 1, special_tokens=SPECIALS, unk_token="<unk>", show_progress=False)
    tok.train_from_iterator(lines, trainer)
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    if [p for p, _ in vocab[:4]] != SPECIALS:
        raise AssertionError(f"unigram trainer did not put {SPECIALS} first: {vocab[:4]}")
    vocab.append(["<mask>", 0.0])
    spec["added_tokens"].append({"id": len(vocab) - 1, "content": "<mask>", "single_word": False, "lstrip": True, "rstrip": False,
                                 "normalized": False, "special": True})
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.post_processor = processors.TemplateProcessing(  # RoBERTa's pair template: <s> A </s></s> B </s>
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return tok


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value) -> bytes:
    """One protobuf field: bytes/str (wire type 2), float (5) or int/bool (0)."""
    if isinstance(value, (bytes, str)):
        data = value.encode() if isinstance(value, str) else value
        return _varint(number << 3 | 2) + _varint(len(data)) + data
    if isinstance(value, float):
        return _varint(number << 3 | 5) + struct.pack("<f", value)
    return _varint(number << 3) + _varint(int(value))


def sentencepiece_model(vocab: list[tuple[str, float]]) -> bytes:
    """``sentencepiece.bpe.model`` (a sentencepiece ModelProto, unigram despite the name) for the
    pieces of a fairseq-ordered vocabulary: sentencepiece's own ids are <unk>=0, <s>=1, </s>=2 and
    then the pieces; fairseq adds <pad> and shifts them by one, and appends <mask>."""
    normal, unknown, control = 1, 2, 3
    pieces = [("<unk>", 0.0, unknown), ("<s>", 0.0, control), ("</s>", 0.0, control)]
    pieces += [(p, float(s), normal) for p, s in vocab[4:-1]]
    body = b"".join(_field(1, _field(1, p) + _field(2, s) + _field(3, t)) for p, s, t in pieces)
    trainer = _field(3, 1) + _field(4, len(pieces))  # model_type UNIGRAM, vocab_size
    normalizer = _field(1, "nmt_nfkc") + _field(3, True) + _field(4, True) + _field(5, True)
    return body + _field(2, trainer) + _field(3, normalizer)


def xlmr_config(vocab_size: int, hidden_size: int, num_layers: int, num_heads: int, intermediate_size: int) -> dict:
    """config.json with the keys of xlm-roberta-large's, at the given dimensions."""
    return {
        "architectures": ["XLMRobertaForMaskedLM"], "attention_probs_dropout_prob": 0.1, "bos_token_id": 0, "eos_token_id": 2,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": hidden_size, "initializer_range": 0.02,
        "intermediate_size": intermediate_size, "layer_norm_eps": 1e-05, "max_position_embeddings": 514, "model_type": "xlm-roberta",
        "num_attention_heads": num_heads, "num_hidden_layers": num_layers, "output_past": True, "pad_token_id": 1,
        "type_vocab_size": 1, "vocab_size": vocab_size,
    }


def add_pooler(safetensors_path: str, hidden_size: int, seed: int = 1) -> None:
    """Add ``roberta.pooler.*`` weights, as xlm-roberta-large's checkpoint ships them (the masked-LM
    class has no pooler, so save_pretrained leaves them out): model.pooler's "loaded when present"."""
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(safetensors_path)
    g = torch.Generator().manual_seed(seed)
    state["roberta.pooler.dense.weight"] = torch.randn(hidden_size, hidden_size, generator=g) * 0.02
    state["roberta.pooler.dense.bias"] = torch.randn(hidden_size, generator=g) * 0.02
    save_file(state, safetensors_path, metadata={"format": "pt"})


def write_model(hub_dir: str, repo_id: str, vocab_size: int, hidden_size: int, num_layers: int, num_heads: int,
                intermediate_size: int, seed: int = 0, ref: str = "main") -> str:
    """A randomly initialised XLMRobertaForMaskedLM in ``repo_id``'s snapshot; returns the folder."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    tok = train_xlmr_tokenizer(corpus(), vocab_size)
    vocab = json.loads(tok.to_str())["model"]["vocab"]
    config = xlmr_config(len(vocab), hidden_size, num_layers, num_heads, intermediate_size)
    torch.manual_seed(seed)
    model = XLMRobertaForMaskedLM(XLMRobertaConfig(**config))
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        add_pooler(os.path.join(tmp, "model.safetensors"), hidden_size)
        with open(os.path.join(tmp, "model.safetensors"), "rb") as f:
            weights = f.read()
    files = {
        "config.json": json.dumps(config, indent=2).encode(),
        "model.safetensors": weights,
        "sentencepiece.bpe.model": sentencepiece_model(vocab),
        "tokenizer.json": tok.to_str().encode(),
    }
    return write_snapshot(hub_dir, "model", repo_id, files, ref)


# ---- the datasets --------------------------------------------------------------------------


def _parquet_bytes(spec: fx.Spec) -> bytes:
    import datasets

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.parquet")
        datasets.Dataset.from_dict(spec.data, features=spec.features).to_parquet(path)
        with open(path, "rb") as f:
            return f.read()


def write_dataset_repo(hf_home: str, repo: str, specs: list[fx.Spec], parquet=None) -> dict[str, str]:
    """One dataset repo: its Hub snapshot and the prepared ``datasets`` cache of each config.
    ``parquet(spec)``: a split's file as bytes or a path to move in (default: the fixture rows;
    the scale rehearsal writes grown splits). Returns {ref: commit}."""
    to_parquet = parquet or _parquet_bytes
    by_config: dict[str, list[fx.Spec]] = defaultdict(list)
    for s in specs:
        by_config[s.config].append(s)
    hub_dir = os.path.join(hf_home, "hub")
    if repo in SCRIPT_REPOS:
        script = SCRIPT_REPOS[repo]
        files = {f"{s.config}/{s.split}/0000.parquet": to_parquet(s) for s in specs}
        main = write_snapshot(hub_dir, "dataset", repo, {script: b"# loading script: datasets>=4 refuses to run it\n", "README.md": b"---\n---\n"})
        snapshot = write_snapshot(hub_dir, "dataset", repo, files, "convert/parquet")
        layout = {(s.config, s.split): f"{s.config}/{s.split}/0000.parquet" for s in specs}
    else:
        layout = {(s.config, s.split): f"{s.config}/{s.split}-00000-of-00001.parquet" for s in specs}
        card = {"configs": [{"config_name": c, "data_files": [{"split": s.split, "path": f"{c}/{s.split}-*"} for s in group]}
                            for c, group in by_config.items()]}
        files = {layout[s.config, s.split]: to_parquet(s) for s in specs} | {"README.md": ("---\n" + json.dumps(card) + "\n---\n").encode()}
        snapshot = main = write_snapshot(hub_dir, "dataset", repo, files)
    for config, group in by_config.items():
        _prepare(os.path.join(hf_home, "datasets"), repo, config, {s.split: os.path.join(snapshot, layout[s.config, s.split]) for s in group},
                 os.path.basename(snapshot))
    return {"main": os.path.basename(main), "convert/parquet": os.path.basename(snapshot)} if repo in SCRIPT_REPOS else {"main": os.path.basename(main)}


def _prepare(cache_dir: str, repo: str, config: str, split_files: dict[str, str], commit: str) -> None:
    """The Arrow cache an online ``load_dataset(repo, config)`` leaves: ``datasets``' parquet builder
    with the repo's name, the config as a builder config and the commit as the hash."""
    from datasets.data_files import DataFilesDict
    from datasets.load import configure_builder_class
    from datasets.naming import camelcase_to_snakecase
    from datasets.packaged_modules.parquet.parquet import Parquet, ParquetConfig

    name = camelcase_to_snakecase(repo.split("/")[-1])
    data_files = DataFilesDict.from_patterns({split: [path] for split, path in split_files.items()})
    builder_cls = configure_builder_class(Parquet, builder_configs=[ParquetConfig(name=config, data_files=data_files)],
                                          default_config_name=config, dataset_name=name)
    # the cache folder is <owner>___<name>: an online load gets it from repo_id, which here would
    # also demand hf:// data files, so the folder name is passed as the dataset name instead
    folder = "___".join(repo.split("/")[:-1] + [name])
    builder = builder_cls(cache_dir=cache_dir, dataset_name=folder, config_name=config, hash=commit)
    builder.name = builder.dataset_name = builder.info.dataset_name = name  # Arrow files are <name>-<split>.arrow
    builder.download_and_prepare()
    expected = os.path.join(cache_dir, folder, config, "0.0.0", commit)  # the owner keeps its case ("Rowan___hellaswag")
    if os.path.normpath(builder.cache_dir) != expected:
        os.makedirs(os.path.dirname(expected), exist_ok=True)
        shutil.move(builder.cache_dir, expected)


def write_datasets(hf_home: str, parquet=None) -> dict[str, dict[str, str]]:
    """Every fixture dataset (repo, config, split) into the cache (``parquet``: see
    :func:`write_dataset_repo`); returns {repo: {ref: commit}}."""
    import datasets

    datasets.disable_progress_bars()
    by_repo: dict[str, list[fx.Spec]] = defaultdict(list)
    for s in fx.SPECS:
        by_repo[s.repo].append(s)
    return {repo: write_dataset_repo(hf_home, repo, specs, parquet) for repo, specs in sorted(by_repo.items())}


LOCAL_WRITERS = {"ccgbank": fx.write_ccg, "bucc2018": fx.write_bucc_sample, "corpus": fx.write_mlm_corpus}  # data.local_dirs name -> writer


def build(hf_home: str, local_dirs: dict[str, str], model_repo: str, dims: dict, seed: int = 0, parquet=None, local_writers=None) -> dict:
    """The whole rehearsal cache: the model, every dataset, and the hand-supplied inputs the user
    names in data.local_dirs (CCGbank in jiant's format, LDC-licensed; BUCC's sample set in
    XTREME's layout; the MLM corpus, a text file per language): none is on the Hub. ``parquet`` /
    ``local_writers``: the scale rehearsal's grown splits and folders (xstilts/rehearsal/scale.py);
    default the fixtures."""
    if os.path.exists(hf_home):
        shutil.rmtree(hf_home)
    model = write_model(os.path.join(hf_home, "hub"), model_repo, seed=seed, **dims)
    repos = write_datasets(hf_home, parquet)
    writers = LOCAL_WRITERS | (local_writers or {})
    for name, folder in local_dirs.items():
        if name not in writers:
            raise KeyError(f"data.local_dirs.{name}: the rehearsal has no fixture for it (has {sorted(writers)})")
        writers[name](folder)
    return {"model": model, "datasets": repos, "local_dirs": local_dirs}
