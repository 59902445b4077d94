from __future__ import annotations

import pandas as pd
import pytest

from linkaudit.analysis.promo import (
    PromoRules,
    classify_links,
    default_rules,
    fold,
    price_counts,
    promotional_findings,
)

SOURCE = "https://clinique.example/baclofene"
PAGE = "https://clinique.example/autre-page"


@pytest.fixture(scope="module")
def rules() -> PromoRules:
    return default_rules()


def link(
    context: str = "Une phrase ordinaire sur le traitement.",
    anchor: str = "le traitement",
    *,
    target: str | None = PAGE,
    href: str | None = None,
    rel: str = "",
    position: str = "content",
    paragraph: str | None = None,
    internal: bool = True,
    is_image: bool = False,
) -> dict[str, object]:
    filler = " Un second paragraphe de remplissage, assez long pour ne rien déclencher." * 6
    return {
        "source": SOURCE,
        "ord": 0,
        "href": target if href is None else href,
        "target": target,
        "anchor": anchor,
        "rel": rel,
        "position": position,
        "context": context,
        "paragraph": context + filler if paragraph is None else paragraph,
        "is_image": is_image,
        "internal": internal,
    }


def reason_of(rules: PromoRules, **kwargs: object) -> str:
    classified = classify_links(pd.DataFrame([link(**kwargs)]), rules)
    return classified["promo_reason"][0]


# --- call-to-action phrases ---------------------------------------------------------

FRENCH_CTA = [
    ("Pour approfondir ce sujet, consultez notre article dédié.", "pour approfondir"),
    ("Consultez notre article sur l'acide hyaluronique.", "consultez notre article"),
    ("Il est possible de consulter notre guide sur le sujet.", "consulter notre guide"),
    ("Découvrez notre article dédié à l’acide hyaluronique.", "découvrez notre article"),
    ("Decouvrez nos offres de soins du visage.", "decouvrez nos"),
    ("Pour en savoir plus sur d’autres avancées, lisez ceci.", "pour en savoir plus"),
    ("Vous pouvez en apprendre davantage en visitant notre guide complet.",
     "vous pouvez en apprendre davantage"),
    ("Le sujet est vaste, explorez notre article sur la calvitie.", "explorez notre article"),
    ("Vous aimerez aussi notre sélection de conseils.", "vous aimerez aussi"),
    ("Plus d’information et détails en cliquant ici.", "en cliquant ici"),
    ("Pour plus de détails, cliquez ici.", "cliquez ici"),
    ("N’hésitez pas à consulter la rubrique dédiée.", "n’hésitez pas à consulter"),
    ("N'HÉSITEZ PAS À PRENDRE RENDEZ-VOUS avec notre équipe.",
     "n'hésitez pas à prendre rendez-vous"),
    ("Prenez rendez-vous en ligne dès aujourd'hui.", "prenez rendez-vous"),
    ("Demandez votre devis pour une greffe.", "demandez votre devis"),
    ("Pour aller plus loin, lisez la suite.", "pour aller plus loin"),
    ("Jetez un coup d’œil à notre dossier complet.", "jetez un coup d’œil à notre dossier"),
]  # fmt: skip

ENGLISH_CTA = [
    ("Read our guide to better sleep.", "read our guide"),
    ("To go further, read our complete article on migraines.", "read our complete article"),
    ("Learn more about our clinic.", "learn more"),
    ("Find out more in the dedicated section.", "find out more"),
    ("Check out our tips for healthy teeth.", "check out our"),
    ("Don’t miss our article on vitamins.", "don’t miss our article"),
    ("Click here to download the brochure.", "click here"),
    ("Discover our range of treatments.", "discover our"),
    ("See our pricing for details.", "see our"),
    ("Visit our shop for skincare.", "visit our"),
    ("You may also like this story about hair loss.", "you may also like"),
    ("Book an appointment with a specialist.", "book an appointment"),
]


@pytest.mark.parametrize(("context", "phrase"), FRENCH_CTA + ENGLISH_CTA)
def test_cta_phrase_in_context(rules: PromoRules, context: str, phrase: str) -> None:
    assert reason_of(rules, context=context).split("; ")[0] == f'cta_phrase: "{phrase}"'


SALES = [
    ("Sign Me Up Now", "sign me up"),
    ("Réserver sa place", "réserver sa place"),
    ("Tous les détails et les inscriptions sont à retrouver via ce lien.",
     "inscriptions sont à retrouver"),
    ("Participez à notre grand jeu-concours et gagnez un séjour.", "participez à notre grand jeu"),
    ("Contact our team to learn how we can help.", "contact our team"),
    ("Customers who bought this also bought the night oil.", "also bought"),
    ("Enter our holiday draw now and win a week away.", "enter our holiday draw"),
]  # fmt: skip


@pytest.mark.parametrize(("context", "phrase"), SALES)
def test_sales_wording_is_promotional(rules: PromoRules, context: str, phrase: str) -> None:
    assert f'sales_phrase: "{phrase}"' in reason_of(rules, context=context).split("; ")


@pytest.mark.parametrize("anchor", ["Sign Me Up Now", "Réserver sa place"])
def test_sales_anchor_to_the_form_on_its_own_page_is_promotional(
    rules: PromoRules, anchor: str
) -> None:
    reason = reason_of(rules, context=anchor, anchor=anchor, target=SOURCE, paragraph=anchor)
    assert reason.startswith("sales_phrase: ")


# Lines of real pages (tests/realsites) that point to related reading: no call to action.
POINTERS = [
    ("Autre article sur les yeux : “Le soleil et les yeux”", "“Le soleil et les yeux”"),
    ("Lire l’article : Massage femme enceinte pour Bébé zen",
     "Massage femme enceinte pour Bébé zen"),
    ("See also: Comparison: Specmatic vs WireMock", "Comparison: Specmatic vs WireMock"),
    ("À lire aussi : les effets du sommeil sur la mémoire.", "les effets du sommeil"),
    ("Rappel : Cuisson Vapeur douce", "Cuisson Vapeur douce"),
    ("Read more ->", "Read more ->"),
    ("Lire la suite", "Lire la suite"),
]  # fmt: skip


@pytest.mark.parametrize(("paragraph", "anchor"), POINTERS)
def test_pointers_to_related_reading_are_not_promotional(
    rules: PromoRules, paragraph: str, anchor: str
) -> None:
    assert reason_of(rules, context=paragraph, anchor=anchor, paragraph=paragraph) == ""


@pytest.mark.parametrize(
    ("anchor", "phrase"),
    [
        ("En savoir plus »", "en savoir plus"),
        ("Lire la suite →", "lire la suite"),
        ("Read more...", "read more"),
        ("Découvrez notre guide", "découvrez notre guide"),
        ("cliquez ici", "cliquez ici"),
    ],
)
def test_cta_phrase_in_anchor(rules: PromoRules, anchor: str, phrase: str) -> None:
    assert reason_of(rules, context="Une phrase neutre.", anchor=anchor) == (
        f'cta_phrase: "{phrase}"'
    )


@pytest.mark.parametrize("anchor", ["en savoir plus sur le sommeil", "lire la suite du texte"])
def test_whole_anchor_cta_must_be_the_whole_anchor(rules: PromoRules, anchor: str) -> None:
    assert reason_of(rules, context="Une phrase neutre.", anchor=anchor) == ""


NOT_CTA = [
    "Les patients veulent en savoir plus sur leur traitement.",
    "Les médecins cherchent à en savoir davantage sur la molécule.",
    "Ce guide de bonnes pratiques a été publié par la HAS en 2018.",
    "Notre guide des traitements a été mis à jour par le comité.",
    "Il est essentiel de consulter un spécialiste pour ajuster la posologie.",
    "Consultez votre médecin avant toute modification du dosage.",
    "Découvrez les effets du baclofène sur le système nerveux.",
    "Researchers hope to learn more about the mechanism.",
    "The article discusses a guide published by the agency.",
    "Patients often check out of hospital after two days.",
    "We want to see our patients recover quickly.",
]


@pytest.mark.parametrize("context", NOT_CTA[:-1])
def test_ordinary_sentences_are_not_cta(rules: PromoRules, context: str) -> None:
    assert reason_of(rules, context=context) == ""


def test_known_false_positive_is_documented(rules: PromoRules) -> None:
    # "see our" is a call to action in almost every link sentence; this rare use is
    # the price of catching it (docs/promotional-links.md, "Limits").
    assert reason_of(rules, context=NOT_CTA[-1]) == 'cta_phrase: "see our"'


@pytest.mark.parametrize(
    ("context", "phrase"),
    [
        ("n’hésitez pas à découvrir", "n’hésitez pas à découvrir"),
        ("n'hesitez pas a decouvrir", "n'hesitez pas a decouvrir"),
        ("N‘HESITEZ PAS À DÉCOUVRIR", "n‘hesitez pas à découvrir"),
        ("pour   en\u00a0savoir\nplus", "pour en savoir plus"),
        ("Pour en savoir plus", "pour en savoir plus"),
    ],
)
def test_matching_ignores_case_accents_apostrophes_and_spacing(
    rules: PromoRules, context: str, phrase: str
) -> None:
    assert reason_of(rules, context=context) == f'cta_phrase: "{phrase}"'


@pytest.mark.parametrize(
    "context", ["Pour en savoir plusieurs choses.", "clickhere", "relearn more"]
)
def test_phrases_match_on_word_boundaries(rules: PromoRules, context: str) -> None:
    assert reason_of(rules, context=context) == ""


def test_fold_keeps_length() -> None:
    text = "Découvrez l’œil N’hésitez ÀÉÎÕÜ"
    assert len(fold(text)) == len(text)
    assert fold(text) == "Decouvrez l'œil N'hesitez AEIOU"


# --- call-to-action paragraphs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraph", "anchor", "internal", "expected"),
    [
        ("Pour en savoir plus, consultez notre article sur la calvitie.", "la calvitie", True,
         "cta_paragraph: 10 words, call to action"),
        ("Le sommeil compte. Découvrez nos soins du visage.", "le sommeil", True,
         "cta_paragraph: 8 words, call to action"),
        ("À ne pas manquer : notre offre de blanchiment dentaire",
         "notre offre de blanchiment dentaire", True, "cta_paragraph: 9 words, call to action"),
        ("Sponsorisé : les gélules minceur Slim&Fit", "les gélules minceur Slim&Fit", True,
         "cta_paragraph: 6 words, mostly link text"),
        ("Les effets du sommeil", "Les effets du sommeil", True, ""),
        ("Source : Recommandations de la HAS 2018", "Recommandations de la HAS 2018", False, ""),
        ("Une phrase. Une autre. Et une troisième qui consultez notre article.", "x", True, ""),
        ("Un long paragraphe " * 20 + "consultez notre article.", "x", True, ""),
    ],
)  # fmt: skip
def test_cta_paragraph(
    rules: PromoRules, paragraph: str, anchor: str, internal: bool, expected: str
) -> None:
    # The paragraph only ever says more about a link found promotional for another reason
    # (here: its sentence, or a sponsored rel).
    reason = reason_of(
        rules, context=paragraph, anchor=anchor, paragraph=paragraph, internal=internal,
        rel="sponsored" if "Sponsoris" in paragraph else "",
    )
    details = [part for part in reason.split("; ") if part.startswith("cta_paragraph")]
    assert details == ([expected] if expected else [])


def test_short_paragraph_made_of_its_link_is_not_promotional_alone(rules: PromoRules) -> None:
    paragraph = "Exemple les “3 étages”"  # a real in-text pointer (natbienetre)
    assert reason_of(rules, context=paragraph, anchor="“3 étages”", paragraph=paragraph) == ""


def test_image_link_alone_in_paragraph_is_not_mostly_anchor(rules: PromoRules) -> None:
    reason = reason_of(
        rules, context="", anchor="Photo de la clinique", paragraph="Vue : photo", is_image=True
    )
    assert reason == ""


def test_phrase_and_paragraph_reasons_are_listed_together(rules: PromoRules) -> None:
    sentence = "Pour approfondir, consultez notre article sur l’acide hyaluronique."
    reason = reason_of(rules, context=sentence, anchor="l’acide hyaluronique", paragraph=sentence)
    assert reason == 'cta_phrase: "pour approfondir"; cta_paragraph: 8 words, call to action'


# --- sponsored, tracking parameters, commercial URLs -------------------------------------


@pytest.mark.parametrize(
    ("rel", "expected"),
    [("sponsored", 'sponsored: rel="sponsored"'),
     ("nofollow Sponsored", 'sponsored: rel="nofollow Sponsored"'),
     ("ugc nofollow", ""), ("sponsored-content", "")],
)  # fmt: skip
def test_sponsored(rules: PromoRules, rel: str, expected: str) -> None:
    assert reason_of(rules, rel=rel) == expected


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("https://clinique.example/x?utm_source=nl&utm_medium=email",
         "tracking_params: utm_source, utm_medium"),
        ("/x?UTM_Campaign=spring", "tracking_params: utm_campaign"),
        ("https://shop.example/p?id=3&gclid=abc#top", "tracking_params: gclid"),
        ("https://shop.example/p?fbclid", "tracking_params: fbclid"),
        ("https://news.example/?mc_cid=1&mc_eid=2", "tracking_params: mc_cid, mc_eid"),
        ("https://clinique.example/x?source=nl", ""),
        ("https://clinique.example/x?nutm_source=1", ""),
        ("https://clinique.example/utm_source/page", ""),
    ],
)  # fmt: skip
def test_tracking_params_in_raw_href(rules: PromoRules, href: str, expected: str) -> None:
    # On a link that leaves the site, tracking parameters mark a campaign or an affiliate.
    assert reason_of(rules, href=href, target=PAGE, internal=False) == expected


def test_tracking_params_in_target(rules: PromoRules) -> None:
    reason = reason_of(rules, href="/x", target=f"{PAGE}?pk_campaign=a", internal=False)
    assert reason == "tracking_params: pk_campaign"


def test_tracking_params_on_an_internal_link_only_say_more(rules: PromoRules) -> None:
    # A newsletter copied onto the site keeps its campaign tags: not a sign on their own.
    href = f"{PAGE}?utm_source=newsletter&utm_medium=email"
    assert reason_of(rules, href=href, context="The extras listed in our table count.") == ""
    reason = reason_of(rules, href=href, context="Read our guide to better sleep.")
    assert reason == 'cta_phrase: "read our guide"; tracking_params: utm_source, utm_medium'


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("https://clinique.example/tarifs/", 'commercial_url: "tarifs"'),
        ("https://clinique.example/nos-tarifs-implant", 'commercial_url: "tarifs"'),
        ("https://clinique.example/prise-de-rendez-vous", 'commercial_url: "rendez-vous"'),
        ("https://clinique.example/r%C3%A9servation", 'commercial_url: "réservation"'),
        ("https://clinique.example/devis.html", 'commercial_url: "devis"'),
        ("https://shop.example/cart?item=3", 'commercial_url: "cart"'),
        ("https://shop.example/products?add-to-cart=12", 'commercial_url: "add-to-cart"'),
        ("https://clinique.example/en/pricing", 'commercial_url: "pricing"'),
        ("https://clinique.example/surprix-article", ""),
        ("https://clinique.example/cartilage", ""),
        ("https://prix.example/article", ""),
        ("https://clinique.example/workshop-sommeil", ""),
    ],
)
def test_commercial_url(rules: PromoRules, target: str, expected: str) -> None:
    assert reason_of(rules, target=target) == expected


# --- where the rules apply ----------------------------------------------------------------


@pytest.mark.parametrize("position", ["nav", "header", "footer", "aside"])
def test_outside_content_only_sponsored_counts(rules: PromoRules, position: str) -> None:
    kwargs: dict[str, object] = {
        "context": "Consultez notre article.",
        "anchor": "En savoir plus",
        "target": "https://clinique.example/tarifs",
        "href": "https://clinique.example/tarifs?utm_source=x",
        "position": position,
    }
    assert reason_of(rules, **kwargs) == ""
    assert reason_of(rules, rel="sponsored", **kwargs) == 'sponsored: rel="sponsored"'


def test_link_to_its_own_page_is_not_a_call_to_action(rules: PromoRules) -> None:
    reason = reason_of(rules, context="Consultez notre section sur les effets.", target=SOURCE)
    assert reason == ""


def test_mailto_link_without_target_can_be_cta(rules: PromoRules) -> None:
    reason = reason_of(
        rules, context="Contactez-nous par courriel.", target=None, href="mailto:a@b"
    )
    assert reason == 'cta_phrase: "contactez-nous"'


def test_classify_keeps_rows_columns_and_index(rules: PromoRules) -> None:
    links = pd.DataFrame(
        [link(), link("Consultez notre guide.", position="footer"), link("Lisez notre guide.")],
        index=[10, 20, 30],
    )
    classified = classify_links(links, rules)
    assert list(classified.index) == [10, 20, 30]
    assert list(classified.columns) == [*links.columns, "promotional", "promo_reason"]
    assert classified["promotional"].tolist() == [False, False, True]
    assert classified["promotional"].dtype == bool
    assert classified["promo_reason"].tolist()[:2] == ["", ""]


def test_classify_empty_frame(rules: PromoRules) -> None:
    empty = pd.DataFrame({column: [] for column in link()})
    classified = classify_links(empty, rules)
    assert classified.empty and {"promotional", "promo_reason"} <= set(classified.columns)


def test_classify_requires_columns(rules: PromoRules) -> None:
    with pytest.raises(ValueError, match="lacks column.*paragraph"):
        classify_links(pd.DataFrame([link()]).drop(columns="paragraph"), rules)


def test_promotional_findings(rules: PromoRules) -> None:
    links = pd.DataFrame([link(), link("Consultez notre guide.", anchor="notre guide")])
    findings = promotional_findings(classify_links(links, rules))
    assert findings.to_dict("records") == [
        {
            "url": SOURCE,
            "category": "promotional_link",
            "severity": "warning",
            "detail": 'anchor "notre guide": cta_phrase: "consultez notre guide"',
            "target": PAGE,
        }
    ]


# --- rules validation ---------------------------------------------------------------------


def test_default_rules_have_french_and_english_patterns(rules: PromoRules) -> None:
    assert len(rules.cta_phrases) >= 40
    assert len(rules.commercial_url_patterns) >= 30
    assert "gclid" in rules.tracking_params and "utm_" in rules.tracking_param_prefixes
    assert rules.cta_paragraph_max_words == 45


def test_from_mapping_accepts_lists_or_tables() -> None:
    rules = PromoRules.from_mapping(
        {"cta_phrases": ["mon appel"], "commercial_url_patterns": {"xx": ["kaufen"]}}
    )
    assert len(rules.cta_phrases) == 1 and len(rules.commercial_url_patterns) == 1
    assert rules.tracking_params == ()


def test_custom_rules_change_the_verdict() -> None:
    rules = PromoRules.from_mapping({"cta_phrases": {"de": ["lesen sie unseren"]}})
    assert reason_of(rules, context="Lesen Sie unseren Ratgeber.") == (
        'cta_phrase: "lesen sie unseren"'
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cta_phrase": []}, "unknown key 'cta_phrase'"),
        ({"cta_phrases": "consultez"}, "'cta_phrases' must be a list of strings or a table"),
        ({"cta_phrases": {"fr": ["ok", 3]}}, "'cta_phrases.fr' must be a list of non-empty"),
        ({"cta_phrases": {"fr": ["(unclosed"]}}, "'cta_phrases.fr\\[0\\]' is not a valid regex"),
        ({"commercial_url_patterns": ["ok", "[bad"]},
         "'commercial_url_patterns\\[1\\]' is not a valid regex"),
        ({"tracking_params": "gclid"}, "'tracking_params' must be a list"),
        ({"cta_paragraph_max_words": "45"}, "'cta_paragraph_max_words' must be a positive integer"),
        ({"cta_paragraph_max_words": True}, "'cta_paragraph_max_words' must be a positive integer"),
        ({"cta_paragraph_max_sentences": 0}, "'cta_paragraph_max_sentences' must be a positive"),
        ({"cta_paragraph_min_anchor_share": 1.5}, "'cta_paragraph_min_anchor_share' must be"),
    ],
)  # fmt: skip
def test_from_mapping_rejects_bad_rules(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        PromoRules.from_mapping(data)
    assert "\n" not in str(caught.value)


def test_classify_handles_duplicate_index_labels(rules: PromoRules) -> None:
    links = pd.DataFrame([link(), link("Lisez notre guide.")], index=[5, 5])
    assert classify_links(links, rules)["promotional"].tolist() == [False, True]


# --- words that are money words only on a page of prices ----------------------------------

PRIZE_PAGE = "https://ecole.example/prix-recompenses-concours-journalisme/"
PRICE_PAGE = "https://clinique.example/prix-implant-dentaire/"


def test_ambiguous_url_word_needs_a_page_that_lists_prices(rules: PromoRules) -> None:
    links = pd.DataFrame([link(target=PRIZE_PAGE), link(target=PRICE_PAGE)])
    prices = {PRICE_PAGE: 4, PRIZE_PAGE: 1}
    reasons = classify_links(links, rules, prices)["promo_reason"].tolist()
    assert reasons == ["", 'commercial_url: "prix"']


def test_price_counts_read_amounts_with_a_currency() -> None:
    texts = pd.Series({
        "/tarifs/": "Séance 1h : 60 € ; forfait 3 séances 165,00 euros ; carte cadeau € 50",
        "/en/pricing/": "Team plan $19 per month, Enterprise 1,200 USD a year",
        "/article/": "En 2019, 45 patients sur 100 ont vu 3 médecins.",
    })
    assert price_counts(texts) == {"/tarifs/": 3, "/en/pricing/": 2}
