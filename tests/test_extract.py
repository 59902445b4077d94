"""One-parse page extraction (crawler/extract.py) on saved pages and small snippets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from linkaudit.crawler.decoding import decode_html
from linkaudit.crawler.extract import PARAGRAPH_CAP, extract_page
from linkaudit.crawler.items import Heading, Link, PageExtract, Section
from linkaudit.crawler.sentences import (
    CONTEXT_CAP,
    collapse_whitespace,
    count_words,
    sentence_around,
)

FIXTURES = Path(__file__).parent / "fixtures" / "html"
ARTICLE_URL = "https://www.clinique.example/sante/baclofene/"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def page(html: str, url: str = "https://site.example/p") -> PageExtract:
    return extract_page(html.encode("utf-8"), url)


def link_by_anchor(extract: PageExtract, anchor: str) -> Link:
    matches = [link for link in extract.links if link.anchor == anchor]
    assert len(matches) == 1, f"{anchor!r}: {len(matches)} links"
    return matches[0]


@pytest.fixture(scope="module")
def article() -> PageExtract:
    return extract_page(fixture_bytes("french_article.html"), ARTICLE_URL)


# --- the French article: head fields ------------------------------------------------


def test_title_is_whitespace_collapsed(article: PageExtract) -> None:
    assert article.title == "Le baclofène et le système nerveux | Clinique Exemple"


def test_meta_description_is_whitespace_collapsed(article: PageExtract) -> None:
    assert article.meta_description == "Comment le baclofène agit sur les récepteurs GABA-B."


def test_meta_robots_joins_robots_and_googlebot(article: PageExtract) -> None:
    assert article.meta_robots == "index, follow, max-snippet:-1"


def test_canonical_is_absolute_and_normalised(article: PageExtract) -> None:
    assert article.canonical == "https://www.clinique.example/sante/baclofene/"


def test_hreflang_alternates_resolved(article: PageExtract) -> None:
    assert article.hreflang == [
        ("en", "https://clinique.example/en/baclofen/"),
        ("x-default", "https://www.clinique.example/sante/baclofene/"),
    ]


def test_lang_as_declared(article: PageExtract) -> None:
    assert article.lang == "fr-FR"


def test_no_base_href_when_absent(article: PageExtract) -> None:
    assert article.base_href is None


# --- headings and sections ----------------------------------------------------------


def test_headings_in_document_order_with_main_flag(article: PageExtract) -> None:
    assert article.headings == [
        Heading(0, 1, "Comment le baclofène agit-il ?", True),
        Heading(1, 2, "Les effets secondaires", True),  # aria-hidden "#" left out
        Heading(2, 3, "Cas particuliers", True),
        Heading(3, 2, "À lire aussi", False),  # div.related-posts inside the article
        Heading(4, 2, "Nos services", False),  # div.sidebar
    ]


def test_sections_split_main_content_at_headings(article: PageExtract) -> None:
    assert [(s.order, s.level, s.heading) for s in article.sections] == [
        (0, 1, "Comment le baclofène agit-il ?"),
        (1, 2, "Les effets secondaires"),
        (2, 3, "Cas particuliers"),
    ]


def test_section_text_joins_blocks_with_blank_lines(article: PageExtract) -> None:
    assert article.sections[1].text == (
        "La somnolence est fréquente au début du traitement ! Parlez-en à votre médecin."
        "\n\nVertiges légers"
        "\n\nNausées, voir notre fiche."
        "\n\nPour un autre sujet, consultez notre article sur l'acide hyaluronique."
    )


@pytest.mark.parametrize(
    "excluded",
    [
        "ne doit pas compter",  # <script>
        "Texte caché",  # hidden attribute
        "pas de JS",  # <noscript>
        "La spasticité",  # related posts block
        "Traitement de la calvitie",  # sidebar
        "Prendre rendez-vous",  # div#menu
        "Accueil",  # breadcrumb
        "Découvrez aussi",  # div.site-footer
        "Newsletter",  # <aside>
    ],
)
def test_main_text_excludes_boilerplate_and_hidden(article: PageExtract, excluded: str) -> None:
    main_text = "\n\n".join(s.heading + "\n" + s.text for s in article.sections)
    assert excluded not in main_text


def test_an_articles_own_footer_is_not_main_text(article: PageExtract) -> None:
    assert article.headings[0].in_main
    assert article.sections[-1].text.endswith("Ensuite il arrête.")


def test_word_count_counts_main_content_only(article: PageExtract) -> None:
    main_text = " ".join(part for s in article.sections for part in (s.heading, s.text) if part)
    assert article.word_count == count_words(main_text) == 67


def test_content_hash_is_sha1_of_normalised_lowercased_main_text(article: PageExtract) -> None:
    main_text = " ".join(part for s in article.sections for part in (s.heading, s.text) if part)
    expected = hashlib.sha1(" ".join(main_text.split()).lower().encode()).hexdigest()
    assert article.content_hash == expected


def test_content_hash_ignores_boilerplate_and_case() -> None:
    body = "<main><h1>Titre</h1><p>Un   texte.</p></main>"
    first = page(f"<nav><a href='/a'>A</a></nav>{body}")
    second = page(f"<nav><a href='/b'>Autre menu</a></nav>{body.upper()}")
    assert first.content_hash == second.content_hash is not None


# --- links --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "position"),
    [
        (0, "header"),  # logo in <header class=site-header>
        (1, "nav"),  # <nav> inside <header>: the nearest classified ancestor wins
        (3, "nav"),  # div#menu
        (4, "nav"),  # p.breadcrumb inside <main>
        (6, "content"),
        (11, "footer"),  # footer.entry-footer inside <article>: the post's own footer
        (12, "aside"),  # div.related-posts
        (13, "aside"),  # div.sidebar
        (14, "aside"),  # <aside>
        (15, "footer"),  # div.site-footer
        (16, "footer"),  # <footer>
    ],
)
def test_link_positions(article: PageExtract, order: int, position: str) -> None:
    assert article.links[order].position == position


def test_links_keep_document_order(article: PageExtract) -> None:
    assert [link.order for link in article.links] == list(range(len(article.links)))
    assert [link.anchor for link in article.links[:4]] == [
        "Clinique Exemple",
        "Santé",
        "Esthétique",
        "Prendre rendez-vous",
    ]


def test_noscript_links_are_ignored(article: PageExtract) -> None:
    assert all("noscript" not in link.href for link in article.links)


def test_link_fields_in_content(article: PageExtract) -> None:
    assert link_by_anchor(article, "récepteurs GABA-B") == Link(
        order=6,
        href="/sante/recepteurs-gaba/",
        target="https://www.clinique.example/sante/recepteurs-gaba/",
        anchor="récepteurs GABA-B",
        rel="",
        position="content",
        context="Il se lie aux récepteurs GABA-B de la moelle épinière.",
        paragraph=(
            "Le baclofène est un relaxant musculaire. Il se lie aux récepteurs GABA-B "
            "de la moelle épinière. Cela réduit la spasticité."
        ),
        is_image=False,
    )


def test_link_raw_href_rel_and_stripped_target(article: PageExtract) -> None:
    link = link_by_anchor(article, "l'acide hyaluronique")
    assert link.href == "/esthetique/acide-hyaluronique/?utm_medium=cta&ref=article"
    assert link.target == "https://www.clinique.example/esthetique/acide-hyaluronique/?ref=article"
    assert link.rel == "nofollow sponsored"
    assert link.context == "Pour un autre sujet, consultez notre article sur l'acide hyaluronique."


def test_image_link_anchor_is_alt_text(article: PageExtract) -> None:
    link = link_by_anchor(article, "Sevrage alcoolique")
    assert link.is_image
    assert link.target == "https://www.clinique.example/sante/sevrage/"


def test_text_link_is_not_an_image_link(article: PageExtract) -> None:
    assert not link_by_anchor(article, "notre fiche").is_image


def test_footer_link_context_is_its_sentence(article: PageExtract) -> None:
    link = link_by_anchor(article, "la reconstruction")
    assert link.context == "Découvrez aussi la reconstruction."
    assert link.paragraph == "Découvrez aussi la reconstruction. Appelez-nous."


@pytest.mark.parametrize("anchor", ["Écrire", "Téléphone"])
def test_non_http_links_are_kept_without_target(article: PageExtract, anchor: str) -> None:
    link = link_by_anchor(article, anchor)
    assert link.target is None
    assert link.href.startswith(("mailto:", "tel:"))


def test_hidden_link_is_recorded_with_its_anchor(article: PageExtract) -> None:
    link = link_by_anchor(article, "lien caché")
    assert link.target == "https://www.clinique.example/cache/"
    assert link.context == ""


# --- links: snippets ----------------------------------------------------------------


def test_context_keeps_french_guillemets() -> None:
    extract = page('<p>Il dit : « Lisez <a href="/x">ce guide</a>. » Puis il part.</p>')
    assert extract.links[0].context == "Il dit : « Lisez ce guide. »"


def test_context_of_empty_anchor_is_the_whole_block() -> None:
    extract = page('<p>Première phrase. Seconde <a href="/x"></a>phrase.</p>')
    assert extract.links[0].anchor == ""
    assert extract.links[0].context == "Première phrase. Seconde phrase."


def test_repeated_anchor_words_get_the_right_sentence() -> None:
    html = '<p>Voir la calvitie. Encore la calvitie. Lire <a href="/c">la calvitie</a>.</p>'
    extract = page(html)
    assert extract.links[0].context == "Lire la calvitie."


def test_context_and_paragraph_are_capped_around_the_anchor() -> None:
    filler = " ".join(["mot"] * 400)
    extract = page(f'<p>{filler} <a href="/x">ancre</a> {filler}</p>')
    link = extract.links[0]
    assert "ancre" in link.context and len(link.context) <= CONTEXT_CAP
    assert "ancre" in link.paragraph and len(link.paragraph) <= PARAGRAPH_CAP


def test_anchor_collapses_whitespace_and_ignores_hidden_icons() -> None:
    extract = page('<p><a href="/x"><i aria-hidden="true">★</i>  Prendre\n  rendez-vous</a></p>')
    assert extract.links[0].anchor == "Prendre rendez-vous"


def test_icon_link_falls_back_to_aria_label() -> None:
    extract = page('<p><a href="/fb" aria-label="Facebook"><i class="icon"></i></a></p>')
    assert extract.links[0].anchor == "Facebook"
    assert not extract.links[0].is_image


def test_link_wrapping_blocks_uses_its_own_text_as_paragraph() -> None:
    extract = page('<main><a href="/card"><div><h3>Carte</h3><p>Un extrait.</p></div></a></main>')
    link = extract.links[0]
    assert link.anchor == "Carte Un extrait."
    assert link.paragraph == link.context == "Carte Un extrait."


def test_named_anchor_without_href_is_not_a_link() -> None:
    assert page('<p><a name="top">Haut</a> <a href="/x">x</a></p>').links[0].href == "/x"


def test_paragraph_is_the_enclosing_list_item_not_the_whole_list() -> None:
    extract = page('<ul><li>Un élément.</li><li>Deux <a href="/x">liens</a>.</li></ul>')
    assert extract.links[0].paragraph == "Deux liens."


def test_base_href_is_honoured_for_links() -> None:
    extract = page(
        '<head><base href="/docs/v2/"></head><body><a href="guide.html">g</a></body>',
        url="https://site.example/index.html",
    )
    assert extract.base_href == "https://site.example/docs/v2/"
    assert extract.links[0].target == "https://site.example/docs/v2/guide.html"


# --- boilerplate classification: snippets -------------------------------------------


@pytest.mark.parametrize(
    ("wrapper", "position"),
    [
        ('<div role="navigation">{}</div>', "nav"),
        ('<div role="banner">{}</div>', "header"),
        ('<div role="contentinfo">{}</div>', "footer"),
        ('<div role="complementary">{}</div>', "aside"),
        ('<div class="main-navigation">{}</div>', "nav"),
        ('<div class="navbar navbar-expand-lg">{}</div>', "nav"),
        ('<ul class="menu-items">{}</ul>', "nav"),
        ('<div id="breadcrumbs">{}</div>', "nav"),
        ('<div class="widget_text">{}</div>', "aside"),
        ('<div id="masthead">{}</div>', "header"),
        ('<div id="colophon">{}</div>', "footer"),
        ('<div class="header-top">{}</div>', "header"),
        ('<div class="card-header">{}</div>', "content"),
        ('<div class="has-sidebar">{}</div>', "content"),
        ('<div class="content-sidebar-wrap">{}</div>', "content"),
        ('<span class="nav">{}</span>', "content"),  # inline elements are not classified
        ("<section>{}</section>", "content"),
    ],
)
def test_position_from_roles_and_class_names(wrapper: str, position: str) -> None:
    extract = page("<body>" + wrapper.format('<a href="/x">x</a>') + "<p>Texte.</p></body>")
    assert extract.links[0].position == position


def test_header_and_footer_inside_main_belong_to_the_content() -> None:
    html = (
        '<header><a href="/logo">logo</a></header>'
        '<main><header><a href="/h">h</a></header><p>Texte.</p>'
        '<footer><a href="/f">f</a></footer></main>'
    )
    assert [link.position for link in page(html).links] == ["header", "content", "content"]


def test_an_articles_header_is_its_byline_but_its_title_is_content() -> None:
    html = (
        '<header><a href="/logo">logo</a></header>'
        '<article><header><h1><a href="/t">Titre</a></h1><a href="/auteur">Auteur</a></header>'
        '<p>Texte de l\'article.</p><footer><a href="/tag/x">x</a></footer></article>'
    )
    extract = page(html)
    assert [link.position for link in extract.links] == ["header", "content", "header", "footer"]
    assert extract.headings[0].in_main
    assert extract.word_count == 5  # "Titre" and "Texte de l'article": no byline


def test_without_main_or_article_the_body_minus_boilerplate_is_main() -> None:
    extract = page("<nav><p>Menu</p></nav><div><h1>Titre</h1><p>Corps.</p></div>")
    assert extract.sections == [Section(0, 1, "Titre", "Corps.")]


def test_articles_are_main_when_there_is_no_main_element() -> None:
    extract = page("<div><p>Bandeau promo.</p></div><article><p>Le contenu.</p></article>")
    assert extract.sections == [Section(0, 0, "", "Le contenu.")]


def test_preamble_section_has_level_zero_and_empty_heading() -> None:
    extract = page("<main><p>Avant.</p><h2>Après</h2><p>Suite.</p></main>")
    assert extract.sections == [Section(0, 0, "", "Avant."), Section(1, 2, "Après", "Suite.")]


def test_empty_preamble_is_omitted() -> None:
    assert page("<main><h1>T</h1><p>x</p></main>").sections[0].level == 1


@pytest.mark.parametrize(
    "hidden",
    [
        '<p hidden="">Caché</p>',
        '<p aria-hidden="true">Caché</p>',
        '<p style="display: none">Caché</p>',
        '<p style="visibility:hidden">Caché</p>',
        "<template><p>Caché</p></template>",
        "<style>p { content: 'Caché' }</style>",
    ],
)
def test_hidden_and_non_text_elements_are_not_main_text(hidden: str) -> None:
    extract = page(f"<main><p>Visible.</p>{hidden}</main>")
    assert extract.sections[0].text == "Visible."
    assert extract.word_count == 1


def test_xml_lang_is_used_when_lang_is_missing() -> None:
    assert page('<html xml:lang="fr"><body><p>x</p></body></html>').lang == "fr"


def test_inline_elements_do_not_split_words_or_blocks() -> None:
    extract = page("<main><p>Hyper<b>tension</b> et <em>diabète</em><br>ensuite</p></main>")
    assert extract.sections[0].text == "Hypertension et diabète ensuite"


# --- encodings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title", "text"),
    [
        ("latin1.html", "Été à la clinique", "Les résultats sont déjà là : très bien, ça marche."),
        ("cp1252_http_equiv.html", "Prix – 20 €", "« Citation » coûte 20 € — déjà."),
        ("utf8_bom.html", "Fièvre et santé", "Le médecin prescrit un antipyrétique à l'enfant."),
    ],
)
def test_encoding_from_the_document_itself(name: str, title: str, text: str) -> None:
    extract = extract_page(fixture_bytes(name), "http://site.example/")
    assert extract.title == title
    assert extract.sections[0].text == text
    assert "Ã" not in extract.sections[0].text


def test_caller_encoding_is_used() -> None:
    body = "<p>Santé publique</p>".encode("latin-1")
    assert extract_page(body, "http://x/", encoding="latin-1").sections[0].text == "Santé publique"


def test_byte_order_mark_beats_caller_encoding() -> None:
    body = b"\xef\xbb\xbf" + "<p>Santé</p>".encode()
    assert extract_page(body, "http://x/", encoding="latin-1").sections[0].text == "Santé"


def test_undeclared_utf8_is_detected() -> None:
    assert decode_html("<p>déjà</p>".encode()) == "<p>déjà</p>"


def test_undeclared_non_utf8_falls_back_to_detection() -> None:
    text = "<p>" + "Les élèves étudient la thérapie à l'école. " * 10 + "</p>"
    assert "élèves" in decode_html(text.encode("cp1252"))


def test_unknown_declared_encoding_is_ignored() -> None:
    body = '<meta charset="no-such-charset"><p>déjà</p>'.encode()
    assert "déjà" in decode_html(body)


def test_text_input_is_accepted() -> None:
    extract = extract_page('<?xml version="1.0" encoding="latin-1"?><p>déjà</p>', "http://x/")
    assert extract.sections[0].text == "déjà"


# --- malformed and garbage input ----------------------------------------------------


@pytest.fixture(scope="module")
def malformed() -> PageExtract:
    return extract_page(fixture_bytes("malformed.html"), "http://127.0.0.1:8080/casse")


def test_malformed_page_keeps_title(malformed: PageExtract) -> None:
    assert malformed.title == "Page cassée"


def test_malformed_page_nested_links_are_split(malformed: PageExtract) -> None:
    assert [(link.anchor, link.target) for link in malformed.links] == [
        ("lien A", "http://127.0.0.1:8080/a"),
        ("lien B", "http://127.0.0.1:8080/b"),
        ("C", "http://127.0.0.1:8080/c"),
        ("D", "http://127.0.0.1:8080/d"),
    ]


def test_malformed_page_unclosed_heading_ends_at_next_heading(malformed: PageExtract) -> None:
    assert [(h.level, h.text) for h in malformed.headings] == [(2, "Titre"), (3, "Sous-titre")]


def test_malformed_page_text_survives_stray_closing_tags(malformed: PageExtract) -> None:
    texts = [s.text for s in malformed.sections]
    assert texts[0] == (
        "Premier paragraphe sans fin gras\n\nDeuxième paragraphe avec lien A lien B suite."
    )
    assert texts[-1] == "un\n\ndeux C\n\ncellule D\n\nAprès la table."


@pytest.mark.parametrize("body", [b"", b"   \n ", b"<?xml version='1.0'?>", ""])
def test_nothing_to_parse_gives_empty_extract(body: bytes | str) -> None:
    assert extract_page(body, "http://x/") == PageExtract()


@pytest.mark.parametrize(
    "body",
    [
        b"<",
        b"\x00\x01\x02\xff\xfe",
        b"\xff\xfe\x00\x00garbage",
        b"</div></p></html><a href=x>",
        b"<a href='http://[bad'>x</a><a href='http://x:99999/'>y</a>",
        "<p>\ud800 lone surrogate</p>",
        b"<html><body>" + b"<div>" * 1500 + b"deep <a href='/x'>x</a>",
    ],
)
def test_garbage_never_raises(body: bytes | str) -> None:
    assert isinstance(extract_page(body, "http://x/"), PageExtract)


def test_deeply_nested_content_is_kept() -> None:
    extract = extract_page(b"<body>" + b"<div>" * 1500 + b"deep <a href='/x'>x</a>", "http://x/")
    assert [link.target for link in extract.links] == ["http://x/x"]


# --- odd hrefs with <base href> -----------------------------------------------------


@pytest.fixture(scope="module")
def odd() -> PageExtract:
    return extract_page(fixture_bytes("odd_hrefs.html"), "https://docs.example.org/guide/v1/p.html")


def test_odd_page_base_href(odd: PageExtract) -> None:
    assert odd.base_href == "https://docs.example.org/guide/v2/"


@pytest.mark.parametrize(
    ("anchor", "target"),
    [
        ("spaces", "https://docs.example.org/guide/v2/page%20avec%20espaces.html"),
        ("non-ascii", "https://docs.example.org/sant%C3%A9/%C3%A9te?q=%C3%A9"),
        ("protocol-relative", "https://cdn.example.net/x.js"),
        ("js", None),
        ("mail", None),
        ("tel", None),
        ("fragment", "https://docs.example.org/guide/v2/"),
        ("query", "https://docs.example.org/guide/v2/?q=1"),
        ("parent", "https://docs.example.org/guide/x"),
        ("tracking", "https://docs.example.org/a/b/?id=3"),
        ("empty", None),
        ("upper", "http://example.com/"),
    ],
)
def test_odd_href_targets(odd: PageExtract, anchor: str, target: str | None) -> None:
    assert link_by_anchor(odd, anchor).target == target


def test_odd_hrefs_keep_raw_value(odd: PageExtract) -> None:
    assert link_by_anchor(odd, "spaces").href == "  page avec espaces.html  "


def test_anchor_without_href_is_skipped(odd: PageExtract) -> None:
    assert "no href" not in [link.anchor for link in odd.links]


# --- text helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("un deux trois", 3),
        ("l'acide hyaluronique", 3),
        ("l’acide", 2),
        ("GABA-B peut-être", 2),
        ("3,5 mg ou 2.5 ml", 5),
        ("« Bonjour » — dit-il ?", 2),
        ("B12 et 2024", 3),
    ],
)
def test_count_words(text: str, words: int) -> None:
    assert count_words(text) == words


@pytest.mark.parametrize(
    ("anchor", "sentence"),
    [
        ("Première", "Première phrase."),
        ("Martin", "Martin dit « bonjour. »"),
        ("part", "Puis il part !"),
        ("la calvitie.", "Consultez notre article sur la calvitie."),
        ("Fin", "Fin…"),
        ("Dr. Martin", "Le Dr. Martin dit « bonjour. »"),
    ],
)
def test_sentence_around(anchor: str, sentence: str) -> None:
    text = (
        "Première phrase. Le Dr. Martin dit « bonjour. » Puis il part ! "
        "Consultez notre article sur la calvitie. Fin…"
    )
    start = text.index(anchor)
    assert sentence_around(text, start, start + len(anchor)) == sentence


def test_sentence_does_not_split_decimals_or_lowercase_continuations() -> None:
    text = "La dose passe à 2.5 mg. puis on attend. Ensuite on revoit."
    start = text.index("attend")
    assert sentence_around(text, start, start + 6) == "La dose passe à 2.5 mg. puis on attend."


def test_collapse_whitespace_handles_nbsp_and_none() -> None:
    assert collapse_whitespace("  a\u00a0\n b\t") == "a b"
    assert collapse_whitespace(None) == ""


# --- per-page limits ----------------------------------------------------------------


def test_links_beyond_the_limit_are_counted_not_recorded() -> None:
    from linkaudit.crawler.extract import MAX_LINKS

    links = " ".join(f'<a href="/p{i}">lien {i}</a>' for i in range(MAX_LINKS + 5))
    extract = page(f"<main><p>{links}</p></main>")
    assert len(extract.links) == MAX_LINKS
    assert extract.links[-1].context  # placed in its block like any other
    assert extract.limits == [f"{MAX_LINKS + 5:,} links: the first {MAX_LINKS:,} recorded"]


def test_a_link_below_20000_nested_elements_is_kept() -> None:
    html = "<main>" + "<div>" * 20_000 + '<p>Profond <a href="/deep">ici</a>.</p>' + \
        "</div>" * 20_000 + "</main>"
    extract = page(html)
    assert [link.target for link in extract.links] == ["https://site.example/deep"]
    assert extract.word_count == 2
    assert extract.limits[0].startswith("markup nested deeper than 2,048 elements")


def test_sections_beyond_the_limit_join_the_last_one() -> None:
    from linkaudit.crawler.extract import MAX_SECTIONS

    body = "".join(f"<h2>Partie {i}</h2><p>Texte {i}.</p>" for i in range(MAX_SECTIONS + 10))
    extract = page(f"<main>{body}</main>")
    assert len(extract.sections) == MAX_SECTIONS
    assert extract.sections[-1].text.endswith(f"Texte {MAX_SECTIONS + 9}.")
    assert extract.word_count == 4 * (MAX_SECTIONS + 10)
    assert any("sections" in note for note in extract.limits)


def test_an_ordinary_page_has_no_limit_notes(article: PageExtract) -> None:
    assert article.limits == []
