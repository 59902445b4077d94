import copy
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from linkaudit.analysis.coherence import (
    focused_documents,
    section_blocks,
    section_coherence,
    site_section_threshold,
)
from linkaudit.analysis.text import page_documents, words
from linkaudit.analysis.topics import build_topic_model

URL = "https://clinic.test/{}".format

SPASTICITY = [
    (
        0,
        None,
        "La spasticité est une raideur des muscles qui suit une lésion du cerveau ou de la "
        "moelle épinière. Elle touche la marche, le sommeil et les gestes simples du quotidien "
        "chez de nombreux patients.",
    ),
    (
        2,
        "Reconnaître la raideur musculaire",
        "Les muscles spastiques résistent quand on les étire vite. Les réflexes sont vifs, des "
        "spasmes réveillent la nuit et des contractures figent peu à peu le coude, le poignet "
        "ou la cheville. Le neurologue mesure cette raideur musculaire à chaque consultation.",
    ),
    (
        2,
        "Les médicaments contre la spasticité",
        "Les myorelaxants comme la tizanidine ou le dantrolène calment l'excitabilité des "
        "neurones de la moelle épinière. Le neurologue augmente la dose lentement pour limiter "
        "la somnolence et la faiblesse des muscles, puis adapte le traitement aux spasmes."
        "\n\nDécouvrez aussi notre article sur la greffe de cheveux.",
    ),
    (
        2,
        "Greffe de cheveux : nos tarifs",
        "Notre centre propose la greffe de cheveux FUE pour traiter l'alopécie. Le chirurgien "
        "prélève les follicules à l'arrière du crâne et les réimplante sur les zones dégarnies "
        "du cuir chevelu. Les cheveux greffés repoussent après trois mois, avec une densité "
        "naturelle et sans cicatrice visible.",
    ),
    (
        2,
        "Étirements et rééducation",
        "Le kinésithérapeute étire chaque jour les muscles raides pour garder leur longueur et "
        "prévenir les contractures. La rééducation de la marche et de l'équilibre réduit les "
        "spasmes, la raideur musculaire et la douleur liée à la spasticité.",
    ),
    (3, "À retenir", "La spasticité se soigne par étapes."),
]
HAIR = [
    (
        0,
        None,
        "La chute de cheveux inquiète beaucoup de patients. Elle a des causes hormonales, "
        "nutritionnelles ou génétiques et se traite mieux quand le dermatologue la prend tôt en "
        "charge.",
    ),
    (
        2,
        "Les causes de l'alopécie",
        "Les androgènes miniaturisent les follicules du sommet du crâne, les cheveux deviennent "
        "fins puis tombent. Une carence en fer, la thyroïde ou une grossesse accélèrent aussi la "
        "chute de cheveux chez la femme comme chez l'homme.",
    ),
    (
        2,
        "Les traitements de la chute",
        "Le minoxidil en lotion stimule les follicules et ralentit la chute de cheveux. Quand "
        "l'alopécie est installée, une greffe de cheveux FUE déplace des follicules de l'arrière "
        "du crâne vers les zones dégarnies du cuir chevelu.",
    ),
]
BREAD = [
    (
        0,
        None,
        "Sourdough bread needs only flour, water, salt and a lively starter, but time and "
        "temperature decide whether the loaf rises well and tastes sour enough.",
    ),
    (
        2,
        "Feeding the starter",
        "Feed the sourdough starter every day with equal weights of flour and water and keep it "
        "warm. A healthy starter doubles within hours, smells pleasantly sour and makes the "
        "bread dough rise.",
    ),
    (
        2,
        "Baking the loaf",
        "Bake the bread in a hot oven with steam for the first minutes so the loaf can expand, "
        "then let the crust brown. Cool the bread on a rack before slicing the crumb.",
    ),
]
SINGLE = {
    "spasm-2": (
        "fr",
        "Toxine botulique et spasticité",
        "Quand la spasticité touche quelques muscles, le neurologue injecte de la toxine "
        "botulique dans le muscle raide. Les contractures et les spasmes diminuent "
        "pendant trois mois et la rééducation devient plus facile pour le patient.",
    ),
    "spasm-3": (
        "fr",
        "Marcher avec une spasticité",
        "La raideur musculaire des jambes rend la marche lente. Des attelles, des "
        "étirements et des médicaments myorelaxants aident les muscles spastiques et "
        "réduisent les chutes chez les patients atteints de lésion de la moelle.",
    ),
    "hair-2": (
        "fr",
        "Soigner son cuir chevelu",
        "Un shampooing doux respecte le cuir chevelu et les follicules. Évitez les "
        "coiffures serrées qui cassent les cheveux et favorisent la chute. Un massage "
        "stimule la repousse des cheveux fins.",
    ),
    "hair-3": (
        "fr",
        "Greffe de cheveux FUE",
        "La greffe de cheveux prélève des follicules un par un à l'arrière du crâne et "
        "les réimplante sur les zones dégarnies. Les cheveux greffés tombent puis "
        "repoussent, et l'alopécie recule.",
    ),
    "bread-2": (
        "en",
        "Kneading bread dough",
        "Stretch and fold the bread dough during bulk fermentation to build gluten. "
        "Proof the loaf until the dough has grown by half, then shape it gently and "
        "bake it in a hot oven.",
    ),
    "bread-3": (
        "en",
        "Choosing bread flour",
        "Bread flour with more protein gives a taller loaf. Whole wheat flour drinks "
        "more water and ferments the dough faster; rye flour makes a dense sourdough "
        "crumb.",
    ),
}
ARTICLES = {
    "spasticity": ("fr", "La spasticité au quotidien", SPASTICITY),
    "hair": ("fr", "Chute de cheveux", HAIR),
    "bread": ("en", "Sourdough bread at home", BREAD),
}


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    page_rows, section_rows, heading_rows = [], [], []
    pages_and_sections = {
        **ARTICLES,
        **{key: (lang, title, [(0, None, text)]) for key, (lang, title, text) in SINGLE.items()},
    }
    for key, (lang, title, sections) in pages_and_sections.items():
        page_rows.append(
            {"url": URL(key), "is_html": True, "indexable": True, "title": title, "lang": lang}
        )
        heading_rows.append({"url": URL(key), "ord": 0, "level": 1, "text": title, "in_main": True})
        for ord_, (level, heading, text) in enumerate(sections):
            section_rows.append(
                {"url": URL(key), "ord": ord_, "level": level, "heading": heading, "text": text}
            )
    return pd.DataFrame(page_rows), pd.DataFrame(section_rows), pd.DataFrame(heading_rows)


@pytest.fixture(scope="module")
def site():
    pages, sections, headings = _frames()
    model = build_topic_model(page_documents(pages, sections, headings))
    return model, sections


@pytest.fixture(scope="module")
def scored(site):
    model, sections = site
    return section_coherence(model, sections)


def _section(section_frame: pd.DataFrame, key: str, heading_start: str) -> pd.Series:
    rows = section_frame[
        (section_frame["url"] == URL(key))
        & section_frame["heading"].fillna("").str.startswith(heading_start)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


def test_tiny_sections_are_merged_into_their_neighbours(site):
    model, sections = site
    blocks = section_blocks(model, sections)
    article = blocks[blocks["url"] == URL("spasticity")]
    # the intro (31 words) stays; "À retenir" (6 words) joins "Étirements"
    assert list(article["ord"]) == [0, 1, 2, 3, 4]
    assert article.iloc[-1]["words"] == len(words(SPASTICITY[4][2])) + 6


def test_tiny_first_section_joins_the_next_one(site):
    model, _ = site
    sections = pd.DataFrame(
        {
            "url": URL("hair"),
            "ord": [0, 1],
            "level": [0, 2],
            "heading": [None, "Causes"],
            "text": ["Trop court.", HAIR[1][2]],
        }
    )
    blocks = section_blocks(model, sections)
    assert list(blocks["ord"]) == [0]
    assert blocks["heading"].iloc[0] == "Causes"


def test_drifting_section_is_flagged(scored):
    _, section_frame = scored
    drift = _section(section_frame, "spasticity", "Greffe")
    assert drift["incoherent"]
    assert "cheveux" in drift["why"]
    assert "spasticité" in drift["why"].split("page topic: ")[1]


@pytest.mark.parametrize("heading", ["Reconnaître", "Les médicaments", "Étirements"])
def test_on_topic_sections_of_the_drifting_page_are_not_flagged(scored, heading):
    _, section_frame = scored
    section = _section(section_frame, "spasticity", heading)
    assert not section["incoherent"]
    assert section["why"] == ""


def test_drifting_section_scores_below_the_page_other_sections(scored):
    _, section_frame = scored
    article = section_frame[section_frame["url"] == URL("spasticity")].set_index("heading")
    drift = article.loc["Greffe de cheveux : nos tarifs", "score"]
    others = article.drop(index="Greffe de cheveux : nos tarifs")["score"].dropna()
    assert drift < 0.5 * others.min()


def _with_paragraph(sections: pd.DataFrame, key: str, ord_: int, paragraph: str):
    mask = (sections["url"] == URL(key)) & (sections["ord"] == ord_)
    changed = sections.copy()
    changed.loc[mask, "text"] = changed.loc[mask, "text"] + "\n\n" + paragraph
    return changed


def test_short_call_to_action_paragraph_is_left_out_of_the_score(site, scored):
    model, sections = site
    cta = "Consultez notre guide de la greffe de cheveux et de la chute de cheveux."
    _, with_cta = section_coherence(model, _with_paragraph(sections, "spasticity", 1, cta))
    before = _section(scored[1], "spasticity", "Reconnaître")
    after = _section(with_cta, "spasticity", "Reconnaître")
    assert after["score"] == before["score"]
    assert not after["incoherent"]


def test_long_off_topic_paragraph_lowers_the_score(site, scored):
    model, sections = site
    _, with_drift = section_coherence(
        model, _with_paragraph(sections, "spasticity", 1, BREAD[1][2])
    )
    before = _section(scored[1], "spasticity", "Reconnaître")
    assert _section(with_drift, "spasticity", "Reconnaître")["score"] < before["score"]


@pytest.mark.parametrize("key", ["hair", "bread"])
def test_coherent_articles_have_no_flag_and_full_coherence(scored, key):
    page_frame, section_frame = scored
    assert not section_frame[section_frame["url"] == URL(key)]["incoherent"].any()
    assert page_frame.set_index("url").loc[URL(key), "coherence"] == 1.0


def test_page_coherence_is_the_share_of_words_on_topic(scored):
    page_frame, section_frame = scored
    article = section_frame[section_frame["url"] == URL("spasticity")]
    expected = 1 - article.loc[article["incoherent"], "words"].sum() / article["words"].sum()
    row = page_frame.set_index("url").loc[URL("spasticity")]
    assert row["coherence"] == pytest.approx(expected, abs=1e-4)
    assert 0.6 < row["coherence"] < 0.9
    assert row["incoherent_sections"] == 1
    assert row["sections"] == 5


def test_frames_have_the_documented_columns(scored, site):
    page_frame, section_frame = scored
    assert list(page_frame.columns) == ["url", "coherence", "sections", "incoherent_sections"]
    assert list(section_frame.columns) == [
        "url",
        "ord",
        "heading",
        "words",
        "score",
        "incoherent",
        "why",
    ]
    assert len(page_frame) == site[0].size


def test_single_section_pages_are_never_flagged(scored):
    _, section_frame = scored
    singles = section_frame[section_frame["url"].isin([URL(k) for k in SINGLE])]
    assert not singles["incoherent"].any()


def test_scores_are_between_zero_and_one(scored):
    _, section_frame = scored
    assert section_frame["score"].dropna().between(0, 1).all()


@pytest.mark.parametrize(("threshold", "expect_all"), [(0.0, False), (1.01, True)])
def test_threshold_override(site, threshold, expect_all):
    model, sections = site
    _, section_frame = section_coherence(model, sections, threshold=threshold)
    scored_sections = section_frame[section_frame["score"].notna()]
    assert scored_sections["incoherent"].all() == expect_all
    assert scored_sections["incoherent"].any() == expect_all


def test_sections_of_pages_outside_the_model_are_ignored(site):
    model, sections = site
    stray = pd.DataFrame(
        {
            "url": ["https://other.test/x"],
            "ord": [0],
            "level": [0],
            "heading": [None],
            "text": [BREAD[1][2]],
        }
    )
    page_frame, section_frame = section_coherence(model, pd.concat([sections, stray]))
    assert "https://other.test/x" not in set(section_frame["url"])
    assert "https://other.test/x" not in set(page_frame["url"])


def test_page_without_sections_has_no_coherence(site):
    model, sections = site
    page_frame, _ = section_coherence(model, sections[sections["url"] != URL("hair")])
    row = page_frame.set_index("url").loc[URL("hair")]
    assert pd.isna(row["coherence"])
    assert row["sections"] == 0


def test_empty_sections_frame():
    pages, sections, headings = _frames()
    model = build_topic_model(page_documents(pages, sections, headings))
    page_frame, section_frame = section_coherence(model, sections.iloc[0:0])
    assert section_frame.empty
    assert page_frame["coherence"].isna().all()


def test_single_page_site_does_not_crash():
    pages, sections, headings = _frames()
    keep = pages["url"] == URL("spasticity")
    model = build_topic_model(page_documents(pages[keep], sections, headings))
    page_frame, section_frame = section_coherence(model, sections)
    assert len(page_frame) == 1
    assert set(section_frame["url"]) == {URL("spasticity")}


def test_site_threshold_is_the_median_with_few_sections():
    assert site_section_threshold(np.array([0.5, 0.6, 0.2, np.nan])) == 0.5


def test_site_threshold_splits_a_bimodal_distribution():
    scores = np.r_[np.full(40, 0.7), np.full(5, 0.05)]
    assert 0.05 < site_section_threshold(scores) < 0.7


def test_list_of_short_lines_is_scored_but_never_flagged(site):
    model, sections = site
    hair_lines = "\n\n".join(
        f"Greffe de cheveux FUE {n} : follicules, crâne et cuir chevelu dégarni." for n in range(6)
    )
    listed = pd.concat(
        [
            sections,
            pd.DataFrame(
                [{"url": URL("spasticity"), "ord": 9, "level": 2, "heading": "Nos cheveux",
                  "text": hair_lines}]
            ),
        ]
    )
    _, section_frame = section_coherence(model, listed)
    row = _section(section_frame, "spasticity", "Nos cheveux")
    assert pd.notna(row["score"])
    assert not row["incoherent"]


def test_focused_documents_drop_only_the_incoherent_section(site, scored):
    model, sections = site
    pages, _, headings = _frames()
    docs = page_documents(pages, sections, headings)
    focused = focused_documents(docs, sections, scored[1]).set_index("url")
    article = focused.loc[URL("spasticity")]
    assert "Greffe de cheveux" not in article["text"]
    assert "Greffe de cheveux" not in article["headings"]
    assert "tizanidine" in article["text"]
    assert "Étirements et rééducation" in article["text"]
    assert focused.loc[URL("hair"), "text"] == docs.set_index("url").loc[URL("hair"), "text"]


def test_focused_documents_unchanged_without_incoherent_sections(site):
    model, sections = site
    pages, _, headings = _frames()
    docs = page_documents(pages, sections, headings)
    _, section_frame = section_coherence(model, sections, threshold=0.0)
    assert focused_documents(docs, sections, section_frame).equals(docs)


def test_a_section_alone_on_its_page_keeps_its_score_when_the_vectors_move_by_rounding(site):
    # Such a section has nothing else on its page to be compared with but the title; a
    # rest computed by subtraction was rounding noise pointing anywhere.
    model, sections = site
    _, frame = section_coherence(model, sections)
    rng = np.random.default_rng(0)
    svd = copy.deepcopy(model.svd)
    svd.components_ = svd.components_ + rng.normal(0, 1e-13, svd.components_.shape)
    nudged = replace(model, svd=svd, lsa=model.lsa + rng.normal(0, 1e-13, model.lsa.shape))
    _, again = section_coherence(nudged, sections)
    alone = frame["url"].isin([URL(key) for key in SINGLE]).to_numpy()
    assert alone.sum() == len(SINGLE) and frame.loc[alone, "score"].notna().all()
    np.testing.assert_allclose(again.loc[alone, "score"], frame.loc[alone, "score"],
                               atol=2e-4)
