import pytest
from hypothesis import given
from hypothesis import strategies as st

from xstilts.metrics import mlqa_scores, squad_scores
from xstilts.metrics.mlqa import MLQA_LANGUAGES, exact_match, f1, mixed_segmentation, normalize_answer, question_scores


def test_chinese_is_scored_per_character():
    assert normalize_answer("北京大学", "zh") == "北 京 大 学"
    assert exact_match("北京", "北京大学", "zh") == 0.0
    assert f1("北京", "北京大学", "zh") == pytest.approx(2 * 1 * 0.5 / 1.5)  # P=1, R=1/2


def test_mixed_cjk_latin_segmentation():
    assert normalize_answer("iPhone 12手机", "zh") == "iphone 12 手 机"
    # pred [iphone 手 机] vs gold [iphone 12 手 机]: P=1, R=3/4
    assert f1("iPhone手机", "iPhone 12手机", "zh") == pytest.approx(2 * 0.75 / 1.75)
    assert mixed_segmentation("ab cd中文ef") == ["ab", "cd", "中", "文", "ef"]


def test_chinese_fullwidth_punctuation_removed():
    assert normalize_answer("《红楼梦》。", "zh") == "红 楼 梦"
    assert exact_match("《红楼梦》", "红楼梦", "zh") == 1.0
    # the generic SQuAD normaliser keeps non-ASCII punctuation: this is why MLQA needs its own
    assert squad_scores({"q": "《红楼梦》"}, {"q": ["红楼梦"]})["exact_match"] == 0.0


def test_only_official_cjk_range_is_split():
    # MLQA splits U+4E00..U+9FA5 only; kana and later ideographs stay in whitespace tokens
    assert normalize_answer("カタカナ", "zh") == "カタカナ"
    assert normalize_answer("ab\u9fb0c", "zh") == "ab\u9fb0c"


@pytest.mark.parametrize(
    "lang, raw, expected",
    [
        ("en", "The cat, a dog", "cat dog"),
        ("es", "¿La casa de los elefantes?", "casa de elefantes"),  # Unicode ¿ removed, "el" inside a word kept
        ("de", "Der Hund und das Haus", "hund und haus"),
        ("vi", "những cái bàn của tôi", "bàn tôi"),
        ("vi", "các bàn", "các bàn"),  # "các" is not in MLQA's Vietnamese list
        ("ar", "الكتاب", "كتاب"),
        ("ar", "مال", "م"),  # official quirk: ال is removed anywhere, not only word-initially
        ("hi", "the राम।", "the राम"),  # no Hindi articles; danda is punctuation
        ("zh", "the 书", "the 书"),  # no Chinese articles
    ],
)
def test_language_specific_normalisation(lang, raw, expected):
    assert normalize_answer(raw, lang) == expected


def test_unknown_language_refused():
    with pytest.raises(ValueError, match="not 'fr'"):
        normalize_answer("x", "fr")
    with pytest.raises(ValueError):
        mlqa_scores({"q": "x"}, {"q": ["x"]}, "xx")


def test_synthetic_languages_use_language_independent_rules():
    # embedded benchmark: punctuation and whitespace rules, no article list, CJK splitting for qd
    assert normalize_answer("The Bank!", "qa") == "the bank"
    assert normalize_answer("憳啅，庪崸", "qd") == "憳 啅 庪 崸"
    assert mlqa_scores({"q": "Gogemas"}, {"q": ["gogemas."]}, "qb")["exact_match"] == 100.0


def test_mlqa_scores_hand_computed_chinese():
    refs = {"q1": ["北京大学"], "q2": ["上海", "上海市"], "q3": ["广州"]}
    preds = {"q1": "北京", "q2": "上海。"}
    with pytest.warns(UserWarning, match="1 of 3"):
        scores = mlqa_scores(preds, refs, "zh")
    assert scores["exact_match"] == pytest.approx(100 * 1 / 3)
    assert scores["f1"] == pytest.approx(100 * (2 / 3 + 1 + 0) / 3)
    assert scores["missing"] == 1


def test_mlqa_gold_normalising_to_empty_is_kept():
    # mlqa_evaluation_v1.py: punctuation-only gold kept; EM 1 ("" == ""), F1 0 (no shared token)
    assert mlqa_scores({"q": ""}, {"q": ["，"]}, "zh") == {"exact_match": 100.0, "f1": 0.0, "missing": 0}
    assert question_scores("北京", ["，", "北京"], "zh") == (1.0, 1.0)
    assert question_scores("", ["der"], "de") == (1.0, 0.0)


def test_mlqa_scores_german_articles():
    scores = mlqa_scores({"q": "die Katze"}, {"q": ["Katze"]}, "de")
    assert scores["exact_match"] == 100.0
    # the same pair under English rules keeps "die"
    assert mlqa_scores({"q": "die Katze"}, {"q": ["Katze"]}, "en")["exact_match"] == 0.0


text = st.lists(st.sampled_from(["a", "b", " ", "北", "京", ",", "。", "the", "ال", "der", "X"]), max_size=10).map("".join)


@given(st.sampled_from(MLQA_LANGUAGES), text, text)
def test_properties(lang, pred, gold):
    score = f1(pred, gold, lang)
    assert 0.0 <= score <= 1.0
    assert score == pytest.approx(f1(gold, pred, lang))
    both_empty = not normalize_answer(pred, lang) and not normalize_answer(gold, lang)
    assert exact_match(pred, gold, lang) <= score or (both_empty and score == 0.0)
    # normalisation is idempotent
    once = normalize_answer(pred, lang)
    assert normalize_answer(once, lang) == once
