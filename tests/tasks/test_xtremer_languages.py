"""XTREME-R's extra UD-POS and Tatoeba languages: read from their own Hub repos, through the real
readers and both row stores, each routed to the right source, with the sources' schema quirks."""

from __future__ import annotations

import shutil

import pytest
from datasets import Features, List, Value

from xstilts.rehearsal import fixtures as fx
from tests.tasks.test_task_hubstore import fake_hub, hub_store  # noqa: F401 - fake_hub is a pytest fixture
from xstilts import hub, languages
from xstilts.stores import HubStore, LocalStore, MissingDataError
from xstilts.tasks import TASKS, XTREME_R_LANGUAGES, tatoeba, udpos
from xstilts.tasks.base import BitextExample, SchemaError, TagExample
from xstilts.tasks.language_routes import HubSource, route

UDPOS_R, TATOEBA_R = "izhx/xtreme-r-udpos", "mteb/tatoeba-bitext-mining"
UDPOS_EXTRA = ("lt", "pl", "uk", "wo", "ro")
TATOEBA_EXTRA = ("az", "lt", "pl", "uk", "ro")


class Recording:
    """A row store that remembers which (repo, config, split) each read asked for."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def rows(self, repo, config, split):
        self.calls.append((repo, config, split))
        return self.inner.rows(repo, config, split)


def tags(example: TagExample) -> list[str]:
    return [udpos.UPOS[t] for t in example.tags]


# ---- routing -----------------------------------------------------------------------------------


def test_extra_languages_are_exactly_the_xtreme_r_additions():
    assert set(XTREME_R_LANGUAGES["udpos"]) - set(TASKS["udpos"].languages) == set(UDPOS_EXTRA) == set(udpos.XTREME_R_ONLY)
    assert set(XTREME_R_LANGUAGES["tatoeba"]) - set(TASKS["tatoeba"].languages) == set(TATOEBA_EXTRA) == set(tatoeba.MTEB_ONLY)


def test_every_language_is_routed_to_the_repo_that_holds_it():
    for lang in UDPOS_EXTRA:
        assert (udpos.source(lang).repo, udpos.config(lang)) == (UDPOS_R, lang)
    for lang in udpos.LANGUAGES:
        assert (udpos.source(lang).repo, udpos.config(lang)) == ("google/xtreme", f"udpos.{languages.get(lang).name}")
    assert [tatoeba.config(lang) for lang in TATOEBA_EXTRA] == ["aze-eng", "lit-eng", "pol-eng", "ukr-eng", "ron-eng"]
    assert {tatoeba.source(lang).repo for lang in TATOEBA_EXTRA} == {TATOEBA_R}
    for lang in tatoeba.LANGUAGES:
        assert (tatoeba.source(lang).repo, tatoeba.config(lang)) == ("google/xtreme", f"tatoeba.{languages.get(lang).iso3}")


def test_reads_ask_the_routed_repo_config_and_split(store):
    rec = Recording(store)
    TASKS["udpos"].load(rec, "test", "lt")
    TASKS["udpos"].load(rec, "test", "en")
    TASKS["tatoeba"].load(rec, "dev", "az")
    TASKS["tatoeba"].load(rec, "test", "de")
    assert rec.calls == [(UDPOS_R, "lt", "test"), ("google/xtreme", "udpos.English", "test"),
                         (TATOEBA_R, "aze-eng", "test"), ("google/xtreme", "tatoeba.deu", "validation")]


def test_xtreme_languages_never_read_the_xtreme_r_copies(store):
    """The mirrors hold en (UD-POS) and deu-eng (Tatoeba) too, with other sentences: XTREME languages
    must keep reading google/xtreme, so their scores stay XTREME's."""
    assert [e.tokens for e in TASKS["udpos"].load(store, "test", "en")] == [[w for w, _ in s] for s in fx.EN_POS[:3]]
    (de,) = TASKS["tatoeba"].load(store, "test", "de")
    assert de.sources[0] == "Ich bin müde." and "Guten Abend." not in de.sources


def test_route_needs_one_catch_all_source():
    a = HubSource("a/x", lambda lang: lang, {"test": "test"}, ("lt",))
    b = HubSource("b/x", lambda lang: lang, {"test": "test"})
    assert route("lt", (a, b)) is a and route("de", (a, b)) is b
    with pytest.raises(ValueError, match="no source for language 'de'"):
        route("de", (a,))


# ---- UD-POS (izhx/xtreme-r-udpos) --------------------------------------------------------------


def test_udpos_extra_language_reads_the_mirror(store):
    lt = TASKS["udpos"].load(store, "test", "lt")
    assert [e.id for e in lt] == ["udpos-lt-test-0", "udpos-lt-test-1", "udpos-lt-test-2"]
    assert lt[0] == TagExample("udpos-lt-test-0", ["Aš", "skaitau", "knygą", "."], [10, 15, 7, 12])
    assert [tags(e) for e in lt] == [[t for _, t in s] for s in fx.LT_POS]
    ro = TASKS["udpos"].load(store, "test", "ro")
    assert [e.tokens for e in ro] == [[w for w, _ in s] for s in fx.RO_POS] and tags(ro[1]) == ["AUX", "ADJ", "PUNCT"]


@pytest.mark.parametrize("split", ["dev", "train"])
def test_udpos_extra_language_is_test_only(store, split):
    with pytest.raises(MissingDataError) as err:
        TASKS["udpos"].load(store, split, "lt")
    msg = str(err.value)
    assert UDPOS_R in msg and f"no {split} split" in msg and "'lt'" in msg and "['test'] only" in msg


def test_udpos_tag_names_read_like_class_label_ids(store, mirror_copy):
    """The mirror's tag encoding is undocumented: UPOS strings give the same examples as ClassLabel ids."""
    s = fx.spec(UDPOS_R, "lt", "test")
    names = [[t for _, t in sent] for sent in fx.LT_POS]
    fx.write_dataset(mirror_copy, UDPOS_R, "lt", "test", {**s.data, "pos_tags": names}, Features({**s.features, "pos_tags": List(Value("string"))}))
    assert TASKS["udpos"].load(LocalStore(mirror_copy), "test", "lt") == TASKS["udpos"].load(store, "test", "lt")


def test_udpos_tag_names_are_refused_from_google_xtreme(mirror_copy):
    """google/xtreme's pos_tags are ClassLabel ids; names there are drift, not a second encoding."""
    s = fx.spec("google/xtreme", "udpos.German", "test")
    names = [[t for _, t in sent] for sent in fx.DE_POS]
    fx.write_dataset(mirror_copy, "google/xtreme", "udpos.German", "test", {**s.data, "pos_tags": names},
                     Features({**s.features, "pos_tags": List(Value("string"))}))
    with pytest.raises(SchemaError, match=r"google/xtreme config 'udpos\.German' split 'test'.*'pos_tags'.*'DET'"):
        TASKS["udpos"].load(LocalStore(mirror_copy), "test", "de")


def test_udpos_mixed_tag_encodings_are_a_schema_error():
    rows = [{"tokens": ["Aš", "skaitau"], "pos_tags": [10, 15]}, {"tokens": ["Labai", "gražu"], "pos_tags": ["ADV", "ADJ"]}]

    class Rows:
        def rows(self, repo, config, split):
            assert (repo, config, split) == (UDPOS_R, "lt", "test")
            return rows

    with pytest.raises(SchemaError, match=r"izhx/xtreme-r-udpos config 'lt' split 'test'.*'pos_tags' mixes tag names and ClassLabel ids"):
        TASKS["udpos"].load(Rows(), "test", "lt")


# ---- Tatoeba (mteb/tatoeba-bitext-mining) ------------------------------------------------------


def test_tatoeba_extra_language_keeps_xtreme_orientation_and_alignment(store):
    (az,) = TASKS["tatoeba"].load(store, "dev", "az")
    assert isinstance(az, BitextExample) and az.id == "tatoeba-az"
    assert az.sources == ["Mən yoruldum.", "Salam.", "Sağ ol."]  # the non-English side is the query side
    assert az.targets == ["I am tired.", "Hello.", "Thanks."]  # English is retrieved, as in XTREME
    assert az.gold == [(0, 0), (1, 1), (2, 2)]
    assert TASKS["tatoeba"].load(store, "test", "az") == [az]  # one Hub split serves dev and test
    (ro,) = TASKS["tatoeba"].load(store, "test", "ro")
    assert ro.sources[1] == "Unde este gara?" and ro.targets[1] == "Where is the station?" and len(ro.gold) == 4


def test_tatoeba_trailing_newlines_are_stripped_in_both_sources(store, mirror_copy):
    s = fx.spec(TATOEBA_R, "aze-eng", "test")
    data = {k: [v + "\n" for v in vals] for k, vals in s.data.items()}
    fx.write_dataset(mirror_copy, TATOEBA_R, "aze-eng", "test", data, s.features)
    assert TASKS["tatoeba"].load(LocalStore(mirror_copy), "test", "az") == TASKS["tatoeba"].load(store, "test", "az")


def test_tatoeba_extra_language_has_no_train_split(store):
    with pytest.raises(KeyError, match="no 'train' split"):
        TASKS["tatoeba"].load(store, "train", "az")


# ---- the Hub code path and the configurable repo ids -------------------------------------------


def test_hubstore_gives_the_localstore_examples(fake_hub, fixture_root, store):  # noqa: F811
    hub_rows = hub_store(fixture_root)
    for task, split, lang in [("udpos", "test", "lt"), ("udpos", "test", "ro"), ("tatoeba", "dev", "az"), ("tatoeba", "test", "ro")]:
        assert TASKS[task].load(hub_rows, split, lang) == TASKS[task].load(store, split, lang)
    asked = [(c["path"], c["name"], c["split"]) for c in fake_hub.calls]
    assert asked == [(UDPOS_R, "lt", "test"), (UDPOS_R, "ro", "test"), (TATOEBA_R, "aze-eng", "test"), (TATOEBA_R, "ron-eng", "test")]


def test_hubstore_reads_the_repo_configured_instead(fake_hub, fixture_root):  # noqa: F811
    """data.repos swaps an unofficial mirror for another copy; the pin and the error name that copy."""
    other = HubStore(revisions={"someone/udpos-copy": "abc123"}, repos={UDPOS_R: "someone/udpos-copy"})
    with pytest.raises(hub.HubUnavailableError, match=r"someone/udpos-copy config 'lt' split 'test' @ abc123"):
        TASKS["udpos"].load(other, "test", "lt")
    assert fake_hub.calls[0] == {"path": "someone/udpos-copy", "name": "lt", "split": "test", "revision": "abc123", "data_dir": None}


def test_localstore_reads_the_repo_configured_instead(mirror_copy, store):
    shutil.copytree(f"{mirror_copy}/{UDPOS_R}", f"{mirror_copy}/someone/udpos-copy")
    shutil.rmtree(f"{mirror_copy}/{UDPOS_R}")
    swapped = LocalStore(mirror_copy, repos={UDPOS_R: "someone/udpos-copy"})
    assert TASKS["udpos"].load(swapped, "test", "lt") == TASKS["udpos"].load(store, "test", "lt")
    with pytest.raises(MissingDataError, match=UDPOS_R):
        TASKS["udpos"].load(LocalStore(mirror_copy), "test", "lt")
    s = fx.spec(UDPOS_R, "ro", "test")
    fx.write_dataset(mirror_copy, "someone/udpos-copy", "ro", "test", {"tokens": s.data["tokens"]}, Features({"tokens": s.features["tokens"]}))
    with pytest.raises(SchemaError, match=r"dataset someone/udpos-copy config 'ro' split 'test': missing column\(s\) \['pos_tags'\]"):
        TASKS["udpos"].load(swapped, "test", "ro")


def test_data_repos_reaches_the_stores_and_is_validated():
    import copy

    import yaml

    from xstilts import config
    from xstilts.pipeline import store_for

    raw = yaml.safe_load(open("configs/paper.yaml"))
    ok = copy.deepcopy(raw)
    ok["data"]["repos"] = {UDPOS_R: "someone/udpos-copy"}
    params = config.from_dict(ok)
    assert store_for(params).repo_for(UDPOS_R) == "someone/udpos-copy"
    local = config.from_dict({**ok, "data": {**ok["data"], "source": "local", "root": "/data/mirror"}})
    assert store_for(local).repo_for(UDPOS_R) == "someone/udpos-copy" and store_for(local).repo_for("google/xtreme") == "google/xtreme"
    bad = copy.deepcopy(raw)
    bad["data"]["repos"] = {UDPOS_R: "not a repo"}
    with pytest.raises(config.ConfigError, match=r"data\.repos\.izhx/xtreme-r-udpos"):
        config.from_dict(bad)
