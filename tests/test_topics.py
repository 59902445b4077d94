import pickle
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from linkaudit.analysis.text import detect_language
from linkaudit.analysis.topics import (
    DocumentTerms,
    TopicModel,
    build_topic_model,
    clusters,
    equal_error_threshold,
    link_relevance,
    neighbourhood,
    off_topic_mask,
    otsu_threshold,
    page_topics,
    similarity,
    top_terms,
    with_profile,
)
from linkaudit.analysis.topics.vectors import display_map, document_pairs

# Twelve short pages in three topics: muscle spasticity (fr), hair loss (fr) and bread
# baking (en). Page c4 is English but declares lang="fr".
PAGES = {
    "a1": (
        "fr",
        "Spasticité : comprendre la raideur musculaire",
        "La spasticité est une raideur des muscles due à une lésion du système nerveux central. "
        "Les réflexes deviennent trop vifs et les muscles se contractent sans le vouloir. "
        "Cette raideur musculaire gêne la marche, l'habillage et le sommeil. Elle apparaît après "
        "un accident vasculaire cérébral, une sclérose en plaques ou une lésion de la moelle "
        "épinière. Le médecin mesure la spasticité avec l'échelle d'Ashworth et observe les "
        "contractures, les spasmes et la douleur des muscles concernés.",
    ),
    "a2": (
        "fr",
        "Traitement médicamenteux de la spasticité",
        "Plusieurs médicaments myorelaxants réduisent la spasticité : tizanidine, dantrolène et "
        "benzodiazépines. Ils diminuent l'excitabilité des neurones de la moelle épinière et "
        "relâchent les muscles raides. La dose est augmentée progressivement pour limiter la "
        "somnolence, les vertiges et la faiblesse musculaire. Le neurologue adapte le traitement "
        "aux spasmes, aux contractures et à la douleur de chaque patient, et surveille le foie "
        "pendant les premiers mois.",
    ),
    "a3": (
        "fr",
        "Rééducation des muscles spastiques",
        "La kinésithérapie complète les médicaments contre la spasticité. Les étirements "
        "quotidiens gardent la longueur des muscles et préviennent les contractures. Le "
        "kinésithérapeute travaille la marche, l'équilibre et la force musculaire. Des attelles "
        "maintiennent la cheville ou le poignet la nuit. La rééducation réduit la raideur, les "
        "spasmes et la douleur, et aide le patient atteint de sclérose en plaques ou de lésion "
        "de la moelle épinière à rester autonome.",
    ),
    "a4": (
        "fr",
        "Toxine botulique et contractures musculaires",
        "Quand la spasticité touche quelques muscles, le neurologue injecte de la toxine "
        "botulique directement dans le muscle raide. La toxine bloque la transmission entre le "
        "nerf et le muscle pendant trois à quatre mois. Les contractures du coude, du poignet ou "
        "de la cheville se relâchent et les étirements de rééducation deviennent possibles. Les "
        "spasmes et la douleur diminuent. Les injections sont répétées selon la raideur "
        "musculaire observée.",
    ),
    "b1": (
        "fr",
        "Chute de cheveux : les causes hormonales",
        "La chute de cheveux a souvent une origine hormonale. Les androgènes miniaturisent les "
        "follicules pileux du sommet du crâne et les cheveux deviennent fins puis disparaissent. "
        "Une thyroïde déréglée, une grossesse ou la ménopause accélèrent aussi la perte de "
        "cheveux. Le dermatologue examine le cuir chevelu, compte les cheveux tombés et demande "
        "un bilan sanguin avant de proposer un traitement contre l'alopécie.",
    ),
    "b2": (
        "fr",
        "Greffe de cheveux par technique FUE",
        "La greffe de cheveux FUE prélève des follicules un par un à l'arrière du crâne, zone "
        "où les cheveux ne tombent pas. Le chirurgien réimplante ensuite ces greffons sur les "
        "zones dégarnies du cuir chevelu. Les cheveux greffés tombent d'abord puis repoussent "
        "après trois mois. La densité finale dépend du nombre de follicules disponibles. Cette "
        "chirurgie traite l'alopécie installée et donne un résultat naturel.",
    ),
    "b3": (
        "fr",
        "Alopécie androgénétique chez la femme",
        "Chez la femme, l'alopécie androgénétique éclaircit les cheveux sur le haut du crâne "
        "sans créer de zone totalement dégarnie. La raie s'élargit et le cuir chevelu devient "
        "visible. Le minoxidil en lotion ralentit la chute de cheveux et stimule les follicules. "
        "Le dermatologue vérifie le fer et les hormones, car une carence aggrave la perte de "
        "cheveux. Une greffe peut compléter le traitement si la chute est stabilisée.",
    ),
    "b4": (
        "fr",
        "Soigner son cuir chevelu",
        "Un cuir chevelu irrité ou gras fragilise les cheveux. Un shampooing doux, utilisé "
        "deux ou trois fois par semaine, respecte le sébum et les follicules. Les pellicules "
        "se traitent avec un shampooing antifongique. Évitez les brushings très chauds et les "
        "coiffures serrées qui cassent les cheveux et favorisent la chute. Un massage du cuir "
        "chevelu stimule la circulation autour des follicules et aide la repousse.",
    ),
    "c1": (
        "en",
        "Sourdough starter basics",
        "A sourdough starter is a mix of flour and water colonised by wild yeast and lactic "
        "bacteria. Feed the starter every day with fresh flour and water, keep it at room "
        "temperature, and discard part of it before each feeding. After a week the starter "
        "doubles within hours and smells pleasantly sour. A lively starter makes the dough "
        "rise and gives sourdough bread its open crumb and tangy flavour.",
    ),
    "c2": (
        "en",
        "Kneading and proofing bread dough",
        "Kneading develops the gluten network that traps gas in bread dough. Stretch and fold "
        "the dough every half hour during bulk fermentation instead of kneading hard. Proofing "
        "lets the yeast or the sourdough starter produce gas until the dough has grown by half. "
        "An underproofed loaf bakes dense; an overproofed dough collapses in the oven. Shape the "
        "loaf gently and proof it in a floured basket.",
    ),
    "c3": (
        "en",
        "Oven temperature and steam for bread",
        "Bake bread in a hot oven, around two hundred and forty degrees, on a preheated stone "
        "or in a cast iron pot. Steam during the first minutes keeps the crust soft so the loaf "
        "can expand, then the crust browns and crackles. Score the dough with a blade just "
        "before baking. Let the bread cool on a rack for an hour; the crumb keeps baking inside "
        "and slicing too early makes it gummy.",
    ),
    "c4": (
        "fr",
        "Choosing flour for bread",
        "Bread flour with more protein builds a stronger gluten network and a taller loaf. "
        "Whole wheat flour absorbs more water and ferments faster, so add extra water to the "
        "dough and shorten the proofing. Rye flour has little gluten and makes a dense, moist "
        "crumb loved in sourdough bread. Mix flours to balance flavour and rise, and weigh the "
        "flour and water rather than using cups for a consistent dough.",
    ),
}
URL = "https://site.test/{}".format
TOPIC_OF = {key: key[0] for key in PAGES}


def _docs(keys=None) -> pd.DataFrame:
    keys = list(PAGES) if keys is None else keys
    return pd.DataFrame(
        [
            {
                "url": URL(key),
                "lang": detect_language(PAGES[key][2], PAGES[key][0]),
                "text": PAGES[key][2],
                "title": PAGES[key][1],
                "h1": PAGES[key][1],
                "headings": "",
            }
            for key in keys
        ]
    )


@pytest.fixture(scope="module")
def model() -> TopicModel:
    return build_topic_model(_docs())


def _all_links() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"source": URL(a), "target": URL(b), "anchor": PAGES[b][1], "context": ""}
            for a in PAGES
            for b in PAGES
            if a != b
        ]
    )


@pytest.fixture(scope="module")
def scored(model) -> pd.DataFrame:
    links = link_relevance(model, _all_links())
    key = links["source"].str.rsplit("/", n=1).str[1]
    target_key = links["target"].str.rsplit("/", n=1).str[1]
    return links.assign(same_topic=key.str[0] == target_key.str[0], key=key)


def test_wrongly_declared_page_is_modelled_as_english(model):
    assert model.langs[model.index[URL("c4")]] == "en"


def test_clusters_recover_the_three_topics(model):
    topics = page_topics(model).assign(truth=[TOPIC_OF[k] for k in PAGES])
    assert topics.groupby("truth")["topic_id"].nunique().eq(1).all()
    assert topics["topic_id"].nunique() == 3


def test_cluster_labels_name_topic_words(model):
    labels = dict(zip(page_topics(model)["url"], page_topics(model)["topic"], strict=True))
    assert "cheveux" in labels[URL("b1")]
    assert "spasticité" in labels[URL("a1")]
    assert any(word in labels[URL("c1")] for word in ("bread", "dough", "flour"))


def test_clusters_frame_sizes_add_up(model):
    frame = clusters(model)
    assert list(frame.columns) == ["topic_id", "topic", "size", "terms"]
    assert frame["size"].sum() == len(PAGES)
    assert frame["topic"].is_unique


def test_page_topics_show_surface_words_not_stems(model):
    terms = page_topics(model).set_index("url").loc[URL("a1"), "top_terms"].split(", ")
    assert "spasticité" in terms  # the stem is "spastiqu"
    assert "spastiqu" not in terms


def test_within_topic_links_are_more_relevant_than_cross_topic_links(scored):
    same = scored[scored["same_topic"]]["relevance"]
    cross = scored[~scored["same_topic"]]["relevance"]
    assert same.mean() > 5 * cross.mean()
    assert same.median() > cross.max() or same.median() > 0.3


def test_relevance_is_between_zero_and_one(scored):
    assert scored["relevance"].between(0, 1).all()


def test_cross_topic_links_are_off_topic(scored):
    assert scored.loc[~scored["same_topic"], "off_topic"].all()


def test_within_topic_links_are_not_off_topic(scored):
    assert not scored.loc[scored["same_topic"], "off_topic"].any()


def test_why_names_both_topics_and_shared_terms(scored):
    row = scored[(scored["key"] == "a2") & (scored["target"] == URL("c2"))].iloc[0]
    assert row["why"].startswith("source topic: ")
    assert "spasticité" in row["why"]
    assert "dough" in row["why"].split("target topic: ")[1]
    assert "shared terms: none" in row["why"]
    assert "below" in row["why"]


def test_why_of_a_relevant_link_lists_shared_terms(scored):
    row = scored[(scored["key"] == "b1") & (scored["target"] == URL("b3"))].iloc[0]
    assert "cheveux" in row["why"].split("shared terms: ")[1]


def test_suggestions_are_pages_of_the_source_topic(scored):
    off = scored[scored["off_topic"]]
    assert (off["suggested_targets"] != "").all()
    for source_key, suggestions in zip(off["key"], off["suggested_targets"], strict=True):
        urls = suggestions.split(" | ")
        assert 1 <= len(urls) <= 3
        assert URL(source_key) not in urls
        assert {u.rsplit("/", 1)[1][0] for u in urls} == {source_key[0]}


def test_suggestions_are_ranked_best_first(model, scored):
    suggestions = scored[scored["off_topic"]].iloc[0]
    urls = suggestions["suggested_targets"].split(" | ")
    sims = similarity(model, [suggestions["source"]] * len(urls), urls)
    assert list(sims) == sorted(sims, reverse=True)


def test_a_large_sites_suggestion_pool_is_the_source_topic_then_the_nearest(model,
                                                                            monkeypatch):
    from linkaudit.analysis.topics import relevance

    monkeypatch.setattr(relevance, "SUGGESTION_POOL", 5)  # a cluster of 4 is too small
    pools = relevance.suggestion_pools(model)
    assert pools is not None and set(pools) == set(np.unique(model.labels))
    for cluster, pool in pools.items():
        own = np.flatnonzero(model.labels == cluster)
        assert set(own) <= set(pool) and len(pool) >= 5
        assert len(pool) < model.size  # one nearest cluster is enough
        assert list(pool) == sorted(pool)


def test_suggestions_from_pools_are_those_of_a_scan_of_every_page(model, scored,
                                                                  monkeypatch):
    from linkaudit.analysis.topics import relevance

    monkeypatch.setattr(relevance, "SUGGESTION_POOL", 5)
    pooled = link_relevance(model, _all_links())
    assert relevance.suggestion_pools(model) is not None
    assert pooled["off_topic"].any()
    assert pooled["suggested_targets"].tolist() == scored["suggested_targets"].tolist()


def test_on_topic_links_get_no_suggestions(scored):
    assert (scored.loc[~scored["off_topic"], "suggested_targets"] == "").all()


def test_anchor_naming_the_target_scores_above_an_unrelated_anchor(model):
    links = pd.DataFrame(
        {
            "source": [URL("a1"), URL("a1")],
            "target": [URL("b2"), URL("b2")],
            "anchor": ["greffe de cheveux", "étirements des muscles"],
            "context": ["", ""],
        }
    )
    anchors = link_relevance(model, links)["anchor_relevance"]
    assert anchors.iloc[0] > 0.1 > anchors.iloc[1]


def test_link_to_unknown_page_gets_no_relevance(model):
    links = pd.DataFrame(
        {
            "source": [URL("a1"), URL("zz"), URL("a1")],
            "target": ["https://elsewhere.test/x", URL("a1"), None],
            "anchor": ["x", "y", "mail"],
            "context": ["", "", ""],
        }
    )
    result = link_relevance(model, links)
    assert result["relevance"].isna().all()
    assert not result["off_topic"].any()
    assert (result["why"] == "").all() and (result["suggested_targets"] == "").all()


def test_link_relevance_keeps_rows_columns_and_order(model):
    links = pd.DataFrame(
        {
            "source": [URL("a1"), URL("a1"), URL("a1")],
            "target": [URL("a2"), URL("b1"), URL("a2")],
            "rel": ["", "nofollow", ""],
        },
        index=[10, 5, 7],
    )
    result = link_relevance(model, links)
    assert list(result.index) == [10, 5, 7]
    assert list(result["rel"]) == ["", "nofollow", ""]
    assert result.loc[10, "relevance"] == result.loc[7, "relevance"]
    assert result["anchor_relevance"].notna().all()


def test_self_link_is_fully_relevant_and_never_off_topic(model):
    result = link_relevance(model, pd.DataFrame({"source": [URL("a1")], "target": [URL("a1")]}))
    assert result["relevance"].iloc[0] == pytest.approx(1.0, abs=1e-3)
    assert not result["off_topic"].iloc[0]


@pytest.mark.parametrize(("threshold", "expected_off"), [(0.0, 0), (1.01, len(PAGES) - 1)])
def test_threshold_override_replaces_calibration(model, threshold, expected_off):
    links = pd.DataFrame({"source": URL("a1"), "target": [URL(k) for k in PAGES if k != "a1"]})
    assert link_relevance(model, links, threshold=threshold)["off_topic"].sum() == expected_off


def test_threshold_override_between_two_links(model):
    links = pd.DataFrame({"source": [URL("a1"), URL("a1")], "target": [URL("a3"), URL("c1")]})
    sims = similarity(model, links["source"], links["target"])
    result = link_relevance(model, links, threshold=float(sims.mean()))
    assert list(result["off_topic"]) == [False, True]


def test_calibration_comes_from_the_site(model):
    calibration = model.calibration
    assert calibration.method == "site"
    assert 0 < calibration.threshold < calibration.related_median


def test_languages_sharing_no_words_fall_back_to_the_same_language_threshold(model):
    # French and English pages of this site share no topic, so nearest pages across the two
    # languages are no closer than random ones and give no threshold of their own.
    assert model.calibration.cross_language_threshold == model.calibration.threshold


@pytest.mark.parametrize(
    ("related", "unrelated", "low", "high"),
    [
        (np.linspace(0.3, 0.6, 40), np.linspace(0.0, 0.1, 40), 0.1, 0.3),
        (np.linspace(0.1, 0.5, 40), np.linspace(0.0, 0.2, 40), 0.1, 0.21),
    ],
)
def test_equal_error_threshold_separates_the_samples(related, unrelated, low, high):
    assert low <= equal_error_threshold(related, unrelated) <= high


def test_equal_error_threshold_refuses_indistinguishable_samples():
    same = np.linspace(0, 0.5, 30)
    assert equal_error_threshold(same, same[::-1].copy()) is None


def test_clusters_are_made_per_language(model):
    topics = page_topics(model)
    assert topics.groupby("topic_id")["lang"].nunique().eq(1).all()


def test_model_is_deterministic():
    first, second = build_topic_model(_docs()), build_topic_model(_docs())
    assert np.array_equal(first.labels, second.labels)
    assert first.calibration == second.calibration


def test_a_model_profiled_afterwards_has_the_calibration_of_one_profiled_at_once():
    unprofiled = build_topic_model(_docs(), clustered=False, profiled=False)
    assert unprofiled.calibration.profile_threshold is None
    assert not unprofiled.calibration.profiled
    whole = build_topic_model(_docs(), clustered=False)
    assert whole.calibration.method == "site" and whole.calibration.profile_threshold is not None
    assert with_profile(unprofiled).calibration == whole.calibration
    assert with_profile(whole).calibration is whole.calibration  # nothing computed again


def test_fixed_number_of_topics(model):
    assert build_topic_model(_docs(), n_topics=2).labels.max() == 1


@pytest.mark.parametrize("keys", [["a1"], ["a1", "b1"], ["a1", "a2", "c1"]])
def test_tiny_sites_do_not_crash(keys):
    model = build_topic_model(_docs(keys))
    links = pd.DataFrame({"source": URL(keys[0]), "target": [URL(k) for k in keys]})
    result = link_relevance(model, links)
    assert result["relevance"].notna().all()
    assert len(page_topics(model)) == len(keys)
    assert len(clusters(model)) >= 1


def test_two_unrelated_pages_use_the_fallback_threshold():
    model = build_topic_model(_docs(["a1", "c1"]))
    assert model.calibration.method == "fallback"
    links = pd.DataFrame({"source": [URL("a1")], "target": [URL("c1")]})
    assert link_relevance(model, links)["off_topic"].iloc[0]


def test_pages_without_text_do_not_crash():
    docs = pd.DataFrame(
        {
            "url": [URL("x"), URL("y")],
            "lang": ["fr", "und"],
            "text": ["", ""],
            "title": ["", ""],
            "h1": ["", ""],
            "headings": ["", ""],
        }
    )
    model = build_topic_model(docs)
    result = link_relevance(model, pd.DataFrame({"source": [URL("x")], "target": [URL("y")]}))
    assert result["relevance"].iloc[0] == 0
    assert page_topics(model)["topic"].tolist() == ["(no content)"] * 2


def test_empty_site_does_not_crash():
    empty = pd.DataFrame(columns=["url", "lang", "text", "title", "h1", "headings"])
    model = build_topic_model(empty)
    assert page_topics(model).empty
    assert clusters(model).empty
    links = pd.DataFrame({"source": [URL("a")], "target": [URL("b")]})
    assert link_relevance(model, links)["relevance"].isna().all()


@pytest.mark.parametrize(
    ("values", "low", "high"),
    [
        (np.r_[np.full(50, 0.02), np.full(50, 0.5)], 0.02, 0.5),
        (np.r_[np.linspace(0, 0.1, 80), np.linspace(0.6, 0.8, 20)], 0.1, 0.6),
    ],
)
def test_otsu_threshold_falls_between_the_modes(values, low, high):
    assert low <= otsu_threshold(values) <= high


def test_otsu_threshold_of_constant_values_is_none():
    assert otsu_threshold(np.full(10, 0.3)) is None


def test_neighbourhood_profiles_tell_related_pages_from_unrelated_ones(model):
    rows = np.array([model.index[URL("a1")], model.index[URL("a1")]])
    cols = np.array([model.index[URL("a2")], model.index[URL("b1")]])
    langs = np.array(model.langs, dtype=object)
    profile, bridge = neighbourhood(model.tfidf, model.lsa, langs, rows, cols)
    assert profile[0] > profile[1]
    assert bridge[0] > bridge[1]
    assert np.all((profile >= -1) & (profile <= 1))


def test_neighbourhood_needs_enough_pages_of_the_language(model):
    english = [i for i, lang in enumerate(model.langs) if lang == "en"]
    langs = np.array(model.langs, dtype=object)
    lonely = langs.copy()
    lonely[english[2:]] = "xx"  # leave two English pages alone in their language
    profile, bridge = neighbourhood(
        model.tfidf, model.lsa, lonely, np.array(english[:1]), np.array(english[1:2])
    )
    assert np.isnan(profile).all() and np.isnan(bridge).all()


def test_calibration_has_a_profile_threshold(model):
    assert model.calibration.profile_threshold is not None
    assert -1 <= model.calibration.profile_threshold <= 1


def test_pair_below_threshold_but_sharing_neighbours_is_not_off_topic(model):
    source, target = model.index[URL("a1")], model.index[URL("a2")]
    low = np.array([model.calibration.threshold / 2])
    off = off_topic_mask(model, np.array([source]), np.array([target]), low)
    assert not off[0]
    other = model.index[URL("b1")]
    assert off_topic_mask(model, np.array([source]), np.array([other]), low)[0]


def test_top_terms_prefer_the_word_a_page_is_about_over_a_rare_one():
    # p0 is about gardening (12 uses), a word most pages also use once; "patience" (3 uses)
    # appears on one other page only. Plain tf-idf ranks "patience" first.
    others = ["roses", "lawns", "hedges", "bulbs", "ponds", "sheds", "fences"]
    texts = ["gardening " * 12 + "patience patience patience tomatoes compost"]
    texts += [f"Notes about {word} and weather, gardening once." for word in others[:6]]
    texts[1] += " patience"
    texts.append("Notes about fences and weather.")
    docs = pd.DataFrame({"url": [f"https://site.test/p{i}" for i in range(8)],
                         "lang": ["en"] * 8, "title": [""] * 8, "h1": [""] * 8,
                         "headings": [""] * 8, "text": texts})
    model = build_topic_model(docs)
    assert top_terms(model, model.index["https://site.test/p0"], count=1) == ["gardening"]


def test_labels_leave_out_the_title_prefix_dates_and_stop_words():
    # A real Hugo blog's labels read "julia / jul / jan": the author's name before every
    # title, month abbreviations of the dates, and French stop words on pages read as
    # English. None of them names a topic.
    subjects = [("randonnée", "montagne sentier col refuge"),
                ("cuisine", "recette four pâte tarte"),
                ("photo", "objectif lumière cadrage appareil")]
    rows = []
    months = ["jan", "jul", "oct", "déc"]
    for i in range(12):
        subject, words = subjects[i % 3]
        month = months[i % 4]
        text = f"Julia Martin, {month} 2021, avec les amis de julia. " + f"{subject} {words} " * 2
        rows.append({"url": f"https://blog.test/{i}", "lang": "en", "h1": "", "headings": "",
                     "title": f"Julia Martin : {subject} {i} {month}", "text": text})
    model = build_topic_model(pd.DataFrame(rows))
    named = " ".join(model.cluster_names) + " " + " ".join(
        " ".join(top_terms(model, row)) for row in range(model.size))
    for word in ("julia", "martin", "jan", "jul", "oct", "déc", "avec", "les"):
        assert word not in named.split(), word
    assert {"randonnée", "cuisine", "photo"} & set(named.replace("/", " ").split())


def test_a_sentence_about_the_source_that_names_the_target_bridges_them(model):
    # A spasticity page linking to a hair-loss page: off-topic when the sentence is a call
    # to action that has nothing to do with spasticity (the seed article's case), not when
    # the sentence itself joins the two subjects.
    sentences = [
        "Pour découvrir d'autres solutions, consultez notre article sur la greffe de cheveux.",
        "La raideur des muscles et les spasmes de la spasticité peuvent faire tomber les "
        "cheveux : la greffe de cheveux et la chute des cheveux sont un autre sujet.",
    ]
    links = pd.DataFrame({"source": [URL("a1")] * 2, "target": [URL("b2")] * 2,
                          "anchor": ["greffe de cheveux"] * 2, "context": sentences})
    result = link_relevance(model, links)
    assert result["off_topic"].tolist() == [True, False]
    assert "not off-topic: the sentence" in result["why"].iloc[1]
    assert result["suggested_targets"].iloc[1] == ""


def similarity_rows(tfidf, lsa, rows, cols=None):
    """The blended similarities of ``rows`` to every page (to ``cols``), computed from
    scratch: the reference the chunked and cached computations are checked against."""
    from linkaudit.analysis.topics.vectors import blend

    others_tfidf = tfidf if cols is None else tfidf[cols]
    others_lsa = lsa if cols is None else lsa[cols]
    tfidf_cos = (tfidf[rows] @ others_tfidf.T).toarray()
    lsa_cos = lsa[rows] @ others_lsa.T if lsa.shape[1] else None
    return blend(tfidf_cos, lsa_cos)


def test_similarity_rows_kept_within_a_tiny_budget_equal_the_ones_computed_afresh(model):
    from linkaudit.analysis.topics.vectors import ReferenceSimilarities

    # Room for very few rows: every call must still get all of its rows, whatever is dropped.
    kept = ReferenceSimilarities(model.tfidf, model.lsa, None, max_bytes=1)
    kept._max_rows = 2
    rng = np.random.default_rng(3)
    for _ in range(5):
        pages = rng.integers(0, model.size, size=7)
        assert np.array_equal(kept.rows(pages), similarity_rows(model.tfidf, model.lsa, pages))
    assert len(kept._rows) <= 2
    reference = np.array([0, 2, 4])
    some = ReferenceSimilarities(model.tfidf, model.lsa, reference)
    pages = np.array([1, 1, 3])
    assert np.array_equal(some.rows(pages),
                          similarity_rows(model.tfidf, model.lsa, pages, reference))


def test_pair_similarity_in_small_chunks_is_the_diagonal_of_the_similarity_rows(
        model, monkeypatch):
    from linkaudit.analysis.topics import vectors

    monkeypatch.setattr(vectors, "PAIR_CHUNK", 3)  # sparse and dense rows, chunk by chunk
    rng = np.random.default_rng(5)
    rows, cols = rng.integers(0, model.size, size=(2, 11))
    paired = vectors.pair_similarity(model.tfidf, model.lsa, rows, cols)
    whole = similarity_rows(model.tfidf, model.lsa, rows)[np.arange(11), cols]
    assert model.lsa.shape[1] > 0
    np.testing.assert_allclose(paired, whole, atol=1e-12)
    assert (paired > 0).any()


def test_pair_similarity_chunked_by_stored_values_is_the_same(model, monkeypatch):
    from linkaudit.analysis.topics import vectors

    rng = np.random.default_rng(6)
    rows, cols = rng.integers(0, model.size, size=(2, 40))
    whole = vectors.pair_similarity(model.tfidf, model.lsa, rows, cols)
    monkeypatch.setattr(vectors, "PAIR_NONZEROS", 30)  # a few pairs' rows at a time
    sizes = np.diff(model.tfidf.indptr)[rows] + np.diff(model.tfidf.indptr)[cols]
    assert len(list(vectors.pair_chunks(sizes))) > 4
    np.testing.assert_array_equal(vectors.pair_similarity(model.tfidf, model.lsa, rows, cols),
                                  whole)


@pytest.mark.parametrize(("sizes", "budget", "expected"), [
    ([5, 5, 5, 5], 10, [(0, 2), (2, 4)]),
    ([3, 20, 3, 3, 3], 10, [(0, 1), (1, 2), (2, 5)]),  # one pair over the budget: alone
    ([0, 0, 0], 10, [(0, 3)]),
    ([], 10, []),
])
def test_pair_chunks_cover_every_pair_once_within_the_budget(sizes, budget, expected):
    from linkaudit.analysis.topics import vectors

    chunks = list(vectors.pair_chunks(np.array(sizes, dtype=np.int64), budget))
    assert [(part.start, part.stop) for part in chunks] == expected


def test_neighbourhood_with_shared_similarity_rows_gives_the_same_answers(model):
    from linkaudit.analysis.topics.thresholds import site_similarities

    langs = np.array(model.langs, dtype=object)
    rows = np.arange(model.size).repeat(2)[: model.size]
    cols = rows[::-1].copy()
    alone = neighbourhood(model.tfidf, model.lsa, langs, rows, cols)
    shared = site_similarities(model.tfidf, model.lsa)
    for _ in range(2):  # the second call reads the rows the first one computed
        again = neighbourhood(model.tfidf, model.lsa, langs, rows, cols, shared)
        assert np.array_equal(alone[0], again[0], equal_nan=True)
        assert np.array_equal(alone[1], again[1], equal_nan=True)


def test_document_terms_count_each_pages_stems_and_survive_pickling():
    rows = _docs().to_dict("records")
    terms = DocumentTerms()
    stems = terms.tokens(rows)
    for i, row in enumerate(rows):
        expected = Counter(document_pairs(row))
        assert terms.pairs(row) == dict(expected)
        assert Counter(stems[i]) == Counter(stem for (stem, _), n in expected.items()
                                            for _ in range(n))
    site = Counter()
    for row in rows:
        site.update(document_pairs(row))
    assert terms.display() == display_map(site)
    assert terms.display()["spastiqu"] == "spasticité"  # the surface written most often
    again = pickle.loads(pickle.dumps(terms))
    restems = again.tokens(rows)
    assert [sorted(restems[i]) for i in range(len(rows))] == \
        [sorted(stems[i]) for i in range(len(rows))]
    assert again.display() == terms.display()
    # A new page after the trip gets new numbers, not another pair's.
    new = {**rows[0], "url": "https://example.org/new", "text": "Boulangerie levain farine."}
    assert again.pairs(new) == dict(Counter(document_pairs(new)))
