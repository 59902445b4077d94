import itertools
from functools import cache

import pandas as pd
import pytest

from linkaudit.analysis.text import (
    OVERRIDE_MARGIN,
    available_languages,
    detect_language,
    detection_languages,
    fold_accents,
    language_scores,
    normalise_language_tag,
    page_documents,
    stem,
    stopwords,
    tokenize,
)

FRENCH = (
    "La raideur des muscles apparaît après une lésion de la moelle épinière. Le médecin "
    "mesure la spasticité et propose des étirements qui sont faits chaque jour avec le "
    "kinésithérapeute pour que la marche reste possible."
)
ENGLISH = (
    "Feed the starter every day with fresh flour and water, keep it at room temperature, "
    "and discard part of it before each feeding. After a week the starter doubles within "
    "hours and smells pleasantly sour."
)
GERMAN = (
    "Der Sauerteig wird jeden Tag mit frischem Mehl und Wasser gefüttert. Nach einer Woche "
    "ist er aktiv und verdoppelt sich in wenigen Stunden, wenn die Temperatur stimmt und "
    "man ihn nicht zu kalt stellt."
)
SPANISH = (
    "La masa madre se alimenta cada día con harina y agua. Después de una semana está "
    "activa y duplica su volumen en pocas horas si la temperatura es buena y no hace "
    "demasiado frío en la cocina."
)


def test_bundled_stopword_lists_cover_french_and_english():
    assert {"fr", "en"} <= set(available_languages())
    assert {"les", "des", "est", "très"} <= stopwords("fr")
    assert {"the", "and", "which", "would"} <= stopwords("en")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_stopword_lists_are_substantial(lang):
    assert len({fold_accents(w) for w in stopwords(lang)}) >= 180


def test_stopwords_hold_accented_and_folded_forms():
    assert "très" in stopwords("fr") and "tres" in stopwords("fr")


def test_unknown_language_has_no_stopwords():
    assert stopwords("xx") == frozenset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [(FRENCH, "fr"), (ENGLISH, "en"), (GERMAN, "de"), (SPANISH, "es")],
)
def test_detect_language_from_text(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("text", "declared", "expected"),
    [
        (FRENCH, "en", "fr"),  # template-wide lang="en" on a French article
        (ENGLISH, "fr-FR", "en"),
        (FRENCH, "fr-FR", "fr"),
        (ENGLISH, "EN_us", "en"),
    ],
)
def test_detect_language_overrides_a_wrong_declared_language(text, declared, expected):
    assert detect_language(text, declared) == expected


@pytest.mark.parametrize(
    ("text", "declared", "expected"),
    [
        ("Bonjour", "en", "en"),  # too short to contradict the page
        ("", "de", "de"),
        ("", None, "und"),
        ("12345 67 89", "fr", "fr"),
    ],
)
def test_detect_language_keeps_declared_language_when_text_says_little(text, declared, expected):
    assert detect_language(text, declared) == expected


@cache
def corpus_titles() -> dict[str, list[str]]:
    """Site -> the <title> of each of its article pages in the real-page corpus."""
    from tests.corpus.score import corpus_pages

    titles: dict[str, list[str]] = {}
    for page in corpus_pages():
        if page.truth["kind"] == "article":
            titles.setdefault(page.site, []).append(page.extract().title or "")
    return titles


def tag_page(tag_line: str, titles: tuple[str, ...]) -> str:
    """What a blog's tag page says: the tag, then the titles of the posts it lists."""
    return "\n".join([tag_line, *titles])


FRENCH_SITES = ["42angouleme-pybot-docs", "avec-modestie", "epjt", "melmelboo-ghost",
                "natbienetre", "pragmatias-hugo", "servicedenuages-pelican"]
ENGLISH_SITES = ["automating-gis-sphinx", "beachgeek-hugo-cupper", "civic-media-wordpress",
                 "dcassisi", "deans-blog-jekyll", "specmatic", "stefanscherer-ghost",
                 "ua-reformation-drupal"]


@pytest.mark.parametrize("declared", ["en", None, "fr"])
def test_tag_page_of_five_real_french_post_titles_reads_french(declared):
    titles = tuple(corpus_titles()["pragmatias-hugo"][:5])
    text = tag_page("Étiquette : voyage", titles)
    assert "Azure : Microsoft Fabric Preview" in text  # English words in a French title
    assert detect_language(text, declared) == "fr"


@pytest.mark.parametrize("site", FRENCH_SITES)
def test_every_two_title_french_tag_page_overrides_a_template_wide_english_lang(site):
    pages = [tag_page("Étiquette : voyage", pair)
             for pair in itertools.combinations(corpus_titles()[site], 2)]
    assert pages
    assert [detect_language(page, "en") for page in pages] == ["fr"] * len(pages)


@pytest.mark.parametrize("site", ENGLISH_SITES)
def test_every_three_title_english_tag_page_without_lang_reads_english(site):
    pages = [tag_page("Tag: travel", trio)
             for trio in itertools.combinations(corpus_titles()[site], 3)]
    assert [detect_language(page) for page in pages] == ["en"] * len(pages)


def test_titles_of_a_french_site_declared_english_read_french():
    # servicedenuages.fr ships lang="en" on its French articles.
    titles = corpus_titles()["servicedenuages-pelican"]
    assert len(titles) == 5
    assert [detect_language(title, "en") for title in titles] == ["fr"] * 5


@pytest.mark.parametrize(
    "title", ["Azure : Microsoft Fabric Preview", "Module Robot - Pybot", "ZSH : Oh My ZSH"]
)
def test_english_words_in_a_french_sites_title_keep_the_declared_french(title):
    site_titles = corpus_titles()["pragmatias-hugo"] + corpus_titles()["42angouleme-pybot-docs"]
    assert any(t.startswith(title) for t in site_titles)
    assert detect_language(title, "fr") == "fr"


def test_override_needs_the_margin_over_the_declared_language():
    title = "Azure : Microsoft Fabric Preview"
    scores = language_scores(title)
    assert max(detection_languages(), key=scores.get) == "en"
    assert 0 < scores["en"] - scores["fr"] < OVERRIDE_MARGIN


def test_detection_languages_are_those_with_stopwords_or_a_stemmer():
    assert set(detection_languages()) == {"de", "en", "es", "fr", "it", "nl", "pt"}


@pytest.mark.parametrize(("declared", "expected"), [(None, "und"), ("ru", "ru"), ("en", "en")])
def test_text_outside_the_measured_languages_is_not_given_one_of_them(declared, expected):
    russian = "Кошки спят большую часть дня, а ночью охотятся на мышей в саду."
    assert detect_language(russian, declared) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("fr-FR", "fr"), (" EN ", "en"), ("pt_BR", "pt"), ("", None), (None, None), ("x1", None)],
)
def test_normalise_language_tag(tag, expected):
    assert normalise_language_tag(tag) == expected


@pytest.mark.parametrize(
    ("variants", "lang"),
    [
        (["spasticité", "spastique"], "fr"),
        (["médicament", "médicaments", "medicament"], "fr"),
        (["état", "états", "etat"], "fr"),
        (["injection", "injections"], "fr"),
        (["dépendance", "dépendant"], "fr"),
        (["receptor", "receptors"], "en"),
        (["spasticity", "spastic"], "en"),
    ],
)
def test_variants_share_one_stem(variants, lang):
    assert len({stem(w, lang) for w in variants}) == 1


def test_stems_are_accent_folded():
    assert stem("médicament", "fr") == "medic"
    assert stem("récepteurs", "fr") == "recepteur"


def test_unaccented_spelling_of_an_accented_suffix_stems_differently():
    # Snowball reads the accent to strip "-ité"; folding after stemming keeps this right
    # for correctly written French, at the cost of misspelt words.
    assert stem("spasticité", "fr") == "spastiqu"
    assert stem("spasticite", "fr") == "spasticit"


def test_tokenize_drops_stopwords_elisions_and_numbers():
    tokens = tokenize("L'activité des récepteurs GABA-B, 2 fois par jour.", "fr")
    assert tokens == ["activ", "recepteur", "gab", "jour"]


def test_tokenize_english_stems_and_drops_stopwords():
    assert tokenize("The receptors and the muscles were injected", "en") == [
        "receptor",
        "muscl",
        "inject",
    ]


def test_tokenize_language_without_stemmer_keeps_folded_words():
    assert tokenize("Ação rápida", "xx") == ["acao", "rapida"]


def test_tokenize_empty_text():
    assert tokenize("", "fr") == []


def _frames():
    pages = pd.DataFrame(
        {
            "url": ["https://s.org/a", "https://s.org/b", "https://s.org/c", "https://s.org/d"],
            "is_html": [True, True, False, True],
            "indexable": [True, True, True, False],
            "title": ["Muscles", None, "PDF", "Noindex"],
            "lang": ["en", "fr", None, "fr"],
        }
    )
    sections = pd.DataFrame(
        {
            "url": ["https://s.org/a", "https://s.org/a", "https://s.org/b"],
            "ord": [1, 0, 0],
            "level": [2, 0, 0],
            "heading": ["Étirements", None, None],
            "text": ["Les étirements gardent la longueur.", FRENCH, ENGLISH],
        }
    )
    headings = pd.DataFrame(
        {
            "url": ["https://s.org/a", "https://s.org/a", "https://s.org/a"],
            "ord": [0, 1, 2],
            "level": [1, 2, 2],
            "text": ["La spasticité", "Étirements", "Menu"],
            "in_main": [True, True, False],
        }
    )
    return pages, sections, headings


def test_page_documents_keeps_indexable_html_pages_only():
    docs = page_documents(*_frames())
    assert list(docs.columns) == ["url", "lang", "text", "title", "h1", "headings"]
    assert list(docs["url"]) == ["https://s.org/a", "https://s.org/b"]


def test_page_documents_joins_sections_in_order_and_detects_language():
    docs = page_documents(*_frames()).set_index("url")
    page_a = docs.loc["https://s.org/a"]
    assert page_a["text"].index("raideur") < page_a["text"].index("longueur")
    assert page_a["lang"] == "fr"  # declared "en", written in French
    assert page_a["h1"] == "La spasticité"
    assert page_a["headings"] == "Étirements"  # "Menu" is outside the main content
    assert docs.loc["https://s.org/b", "lang"] == "en"
    assert docs.loc["https://s.org/b", "title"] == ""


def test_page_documents_page_without_sections_has_empty_text():
    pages, _, headings = _frames()
    empty_sections = pd.DataFrame(columns=["url", "ord", "level", "heading", "text"])
    docs = page_documents(pages, empty_sections, headings)
    assert list(docs["text"]) == ["", ""]
    assert list(docs["lang"]) == ["en", "fr"]


def test_page_documents_skips_external_pages():
    pages, sections, headings = _frames()
    pages = pages.assign(internal=[True, False, True, True])
    assert list(page_documents(pages, sections, headings)["url"]) == ["https://s.org/a"]


@pytest.mark.parametrize("dtype", ["str", object])
def test_word_counts_split_where_python_does(dtype) -> None:
    from linkaudit.analysis.text import word_counts

    texts = ["consultez\u00a0notre article", "\u2009a\u3000b\u202fc\u2028d\x1ce\x85f\vg\th ",
             "", None, "  ", "l'acide hyaluronique — 3 €", "émoji 😀 ok", "one"]
    series = pd.Series(texts, dtype=dtype)
    expected = [len(t.split()) if t else 0 for t in texts]
    assert word_counts(series).tolist() == expected
    assert expected[1] == 8 and expected[0] == 3


def test_word_counts_match_python_on_every_character() -> None:
    import sys

    from linkaudit.analysis.text import word_counts

    chars = [chr(c) for c in range(0, sys.maxunicode + 1, 7) if not 0xD800 <= c < 0xE000]
    chars += [chr(c) for c in (0x85, 0xA0, 0x1680, 0x2007, 0x200A, 0x2029, 0x205F, 0x3000)]
    texts = pd.Series([f"a{c}b" for c in chars], dtype="str")
    assert word_counts(texts).tolist() == [len(t.split()) for t in texts]
