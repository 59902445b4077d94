"""Link graph analysis on small hand-made sites (analysis/graph.py)."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from linkaudit.analysis import graph
from linkaudit.analysis.model import FINDING_COLUMNS

SITE = "https://site.test"


def url(path: str) -> str:
    return f"{SITE}/{path}"


def make_pages(rows: list[dict]) -> pd.DataFrame:
    """Pages frame as analysis/load.py gives it; each row only states what differs."""
    defaults = {
        "status": 200,
        "error": None,
        "redirect_to": None,
        "canonical": None,
        "found_via": "link",
        "title": "t",
        "is_html": True,
        "blocked_by_robots": False,
        "internal": True,
        "indexable": None,
    }
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    frame["url"] = frame["url"].map(url)
    for column in ("redirect_to", "canonical"):
        frame[column] = frame[column].map(lambda v: url(v) if isinstance(v, str) else None)
    frame["status"] = frame["status"].astype("Int64")
    frame["is_html"] = frame["is_html"].astype(bool)
    canonical_ok = frame["canonical"].isna() | (frame["canonical"] == frame["url"])
    derived = (frame["status"] == 200).fillna(False) & frame["is_html"] & canonical_ok
    frame["indexable"] = frame["indexable"].where(frame["indexable"].notna(), derived).astype(bool)
    return frame


LINK_DEFAULTS = ("a", "content", "")


def make_links(pairs: list[tuple], **columns) -> pd.DataFrame:
    """Links frame from (source, target) or (source, target, anchor, position, rel) tuples."""
    rows = []
    for ord_, pair in enumerate(pairs):
        source, target, anchor, position, rel = (*pair, *LINK_DEFAULTS[len(pair) - 2 :])
        rows.append(
            {
                "source": url(source),
                "ord": ord_,
                "target": url(target) if target is not None else None,
                "anchor": anchor,
                "rel": rel,
                "position": position,
                "internal": target is not None,
            }
        )
    return pd.DataFrame(rows)


LINK_COLUMNS = ["source", "ord", "target", "anchor", "rel", "position", "internal"]
EMPTY = graph.resolve_redirects(make_pages([{"url": "home"}]))  # a site without redirects


# --------------------------------------------------------------------------- redirects


REDIRECT_PAGES = [
    {"url": "a"},
    {"url": "one", "status": 301, "redirect_to": "a", "is_html": False},
    {"url": "two", "status": 301, "redirect_to": "mid", "is_html": False},
    {"url": "mid", "status": 302, "redirect_to": "a", "is_html": False},
    {"url": "loop1", "status": 301, "redirect_to": "loop2", "is_html": False},
    {"url": "loop2", "status": 301, "redirect_to": "loop1", "is_html": False},
    {"url": "self", "status": 307, "redirect_to": "self", "is_html": False},
    {"url": "gone", "status": 301, "redirect_to": "missing", "is_html": False},
    {"url": "missing", "status": 404, "is_html": False},
    {"url": "away", "status": 301, "redirect_to": "never-requested", "is_html": False},
]


@pytest.fixture
def resolved() -> pd.DataFrame:
    return graph.resolve_redirects(make_pages(REDIRECT_PAGES)).set_index("url")


def test_resolve_redirects_has_one_row_per_redirect(resolved: pd.DataFrame) -> None:
    assert sorted(resolved.index) == sorted(
        url(p) for p in ("one", "two", "mid", "loop1", "loop2", "self", "gone", "away")
    )
    assert list(resolved.reset_index().columns) == graph.RESOLVED_COLUMNS


@pytest.mark.parametrize(
    ("start", "final", "hops", "chain", "final_status"),
    [
        ("one", "a", 1, ["one", "a"], 200),
        ("two", "a", 2, ["two", "mid", "a"], 200),
        ("gone", "missing", 1, ["gone", "missing"], 404),
        ("away", "never-requested", 1, ["away", "never-requested"], None),
    ],
)
def test_resolve_redirects_follows_chain_to_final_url(
    resolved: pd.DataFrame, start, final, hops, chain, final_status
) -> None:
    row = resolved.loc[url(start)]
    assert row["final_url"] == url(final)
    assert row["hops"] == hops
    assert row["chain"] == " -> ".join(url(p) for p in chain)
    assert not row["loop"]
    if final_status is None:
        assert pd.isna(row["final_status"])
    else:
        assert row["final_status"] == final_status


@pytest.mark.parametrize(
    ("start", "chain"),
    [("loop1", ["loop1", "loop2", "loop1"]), ("self", ["self", "self"])],
)
def test_resolve_redirects_flags_loops(resolved: pd.DataFrame, start, chain) -> None:
    row = resolved.loc[url(start)]
    assert row["loop"]
    assert pd.isna(row["final_url"])
    assert row["chain"] == " -> ".join(url(p) for p in chain)


def test_resolve_redirects_walks_a_long_chain() -> None:
    hops = [
        {"url": f"r{i}", "status": 301, "redirect_to": f"r{i + 1}", "is_html": False}
        for i in range(30)
    ]
    resolved = graph.resolve_redirects(make_pages([*hops, {"url": "r30"}])).set_index("url")
    assert resolved.loc[url("r0"), "hops"] == 30
    assert resolved.loc[url("r0"), "final_url"] == url("r30")
    assert not resolved["loop"].any()


def test_resolve_redirects_without_redirects_is_empty() -> None:
    result = graph.resolve_redirects(make_pages([{"url": "a"}]))
    assert result.empty
    assert list(result.columns) == graph.RESOLVED_COLUMNS


def test_redirect_findings_report_chains_and_loops(resolved: pd.DataFrame) -> None:
    findings = graph.redirect_findings(resolved.reset_index())
    by_url = findings.set_index("url")
    assert by_url.loc[url("two"), "category"] == "redirect_chain"
    assert {by_url.loc[url(p), "category"] for p in ("loop1", "loop2", "self")} == {"redirect_loop"}
    assert url("one") not in by_url.index
    assert list(findings.columns) == FINDING_COLUMNS


# --------------------------------------------------------------------------- link score

FIVE_PAGE_EDGES = [
    ("home", "b"),
    ("home", "c"),
    ("b", "c"),
    ("c", "home"),
    ("d", "c"),
    ("d", "b"),
    ("e", "d"),
    # "e" gets no inlink; "b" links nowhere else: the graph has every awkward case.
]


def five_page_site() -> tuple[pd.DataFrame, pd.DataFrame]:
    pages = make_pages([{"url": p} for p in ("home", "b", "c", "d", "e")])
    links = make_links(FIVE_PAGE_EDGES + [("home", "b"), ("b", "b")])  # duplicate + self-link
    return pages, links


def reference_pagerank(edges: list[tuple[str, str]], nodes: list[str]) -> dict[str, float]:
    reference = nx.DiGraph()
    reference.add_nodes_from(url(n) for n in nodes)
    reference.add_edges_from((url(s), url(t)) for s, t in edges)
    return nx.pagerank(reference, alpha=0.85, tol=1e-14, max_iter=1000)


def test_pagerank_matches_networkx_on_five_pages() -> None:
    pages, links = five_page_site()
    ranks = graph.pagerank(pages, links, graph.resolve_redirects(pages))
    expected = reference_pagerank(FIVE_PAGE_EDGES, ["home", "b", "c", "d", "e"])
    for page_url, value in expected.items():
        assert ranks[page_url] == pytest.approx(value, abs=1e-6)
    assert float(ranks.sum()) == pytest.approx(1.0)


def test_pagerank_spreads_dangling_rank_like_networkx() -> None:
    edges = [("home", "b"), ("home", "c"), ("b", "c")]  # c links nowhere
    pages = make_pages([{"url": p} for p in ("home", "b", "c")])
    ranks = graph.pagerank(pages, make_links(edges), graph.resolve_redirects(pages))
    for page_url, value in reference_pagerank(edges, ["home", "b", "c"]).items():
        assert ranks[page_url] == pytest.approx(value, abs=1e-6)


def test_link_score_is_log_scaled_with_strongest_page_at_100() -> None:
    pages, links = five_page_site()
    ranks = graph.pagerank(pages, links, graph.resolve_redirects(pages))
    scores = graph.link_score(pages, links, graph.resolve_redirects(pages))
    logs = np.log(ranks.astype(float))
    expected = 100 * (logs - logs.min()) / (logs.max() - logs.min())
    assert scores.name == "pagerank"
    assert scores.max() == 100
    assert scores.min() == 0
    for page_url in ranks.index:
        assert scores[page_url] == pytest.approx(expected[page_url], abs=0.05)


def test_link_score_is_na_outside_the_graph() -> None:
    pages = make_pages(
        [
            {"url": "home"},
            {"url": "b"},
            {"url": "old", "status": 301, "redirect_to": "b", "is_html": False},
            {"url": "noindex", "indexable": False},
            {"url": "broken", "status": 404},
            {"url": "elsewhere", "internal": False},
        ]
    )
    links = make_links([("home", "old"), ("home", "noindex"), ("home", "broken"), ("b", "home")])
    scores = graph.link_score(pages, links, graph.resolve_redirects(pages))
    assert scores[url("home")] == scores[url("b")] == 100
    for page in ("old", "noindex", "broken", "elsewhere"):
        assert pd.isna(scores[url(page)])


def test_pagerank_credits_redirect_and_canonical_targets_to_their_destination() -> None:
    pages = make_pages(
        [
            {"url": "home"},
            {"url": "b"},
            {"url": "c"},
            {"url": "old", "status": 301, "redirect_to": "hop", "is_html": False},
            {"url": "hop", "status": 301, "redirect_to": "b", "is_html": False},
            {"url": "c-print", "canonical": "c"},
        ]
    )
    links = make_links([("home", "old"), ("home", "c-print"), ("b", "home"), ("c", "home")])
    ranks = graph.pagerank(pages, links, graph.resolve_redirects(pages))
    expected = reference_pagerank(
        [("home", "b"), ("home", "c"), ("b", "home"), ("c", "home")], ["home", "b", "c"]
    )
    for page_url, value in expected.items():
        assert ranks[page_url] == pytest.approx(value, abs=1e-6)
    assert pd.isna(ranks[url("c-print")])


def test_link_score_of_a_single_page_is_100() -> None:
    pages = make_pages([{"url": "home"}])
    scores = graph.link_score(pages, make_links([]).reindex(columns=LINK_COLUMNS), EMPTY)
    assert scores[url("home")] == 100


# --------------------------------------------------------------------------- counts, depth


def test_link_counts_count_distinct_pages_without_self_links() -> None:
    pages, links = five_page_site()
    counts = graph.link_counts(pages, links).set_index("url")
    expected = {
        "home": (1, 2),  # from c; to b (twice on the page) and c
        "b": (2, 1),  # from home, d; to c (the self-link does not count)
        "c": (3, 1),
        "d": (1, 2),
        "e": (0, 1),
    }
    for page, (inlinks, outlinks) in expected.items():
        assert (counts.loc[url(page), "inlinks"], counts.loc[url(page), "outlinks"]) == (
            inlinks,
            outlinks,
        )


def test_link_counts_ignore_external_links_but_count_unrequested_targets() -> None:
    pages = make_pages([{"url": "home"}])
    links = make_links([("home", "not-crawled"), ("home", None)])
    counts = graph.link_counts(pages, links).set_index("url")
    assert counts.loc[url("home"), "outlinks"] == 1


def test_click_depth_follows_links_and_redirects() -> None:
    pages = make_pages(
        [
            {"url": "home", "found_via": "start"},
            {"url": "b"},
            {"url": "old", "status": 301, "redirect_to": "c", "is_html": False},
            {"url": "c", "found_via": "redirect"},
            {"url": "deep"},
            {"url": "sitemap-only", "found_via": "sitemap"},
        ]
    )
    links = make_links([("home", "b"), ("b", "old"), ("c", "deep"), ("deep", "home")])
    depth = graph.click_depth(pages, links, url("home"), graph.resolve_redirects(pages))
    assert depth[url("home")] == 0
    assert depth[url("b")] == 1
    assert depth[url("old")] == 2
    assert depth[url("c")] == 2
    assert depth[url("deep")] == 3
    assert pd.isna(depth[url("sitemap-only")])
    assert depth.dtype == "Int64"


def test_click_depth_starts_from_where_the_start_url_redirects() -> None:
    pages = make_pages(
        [
            {"url": "", "status": 301, "redirect_to": "fr", "is_html": False},
            {"url": "fr"},
            {"url": "b"},
        ]
    )
    links = make_links([("fr", "b")])
    depth = graph.click_depth(pages, links, url(""), graph.resolve_redirects(pages))
    assert (depth[url("")], depth[url("fr")], depth[url("b")]) == (0, 0, 1)


# --------------------------------------------------------------------------- page problems


def test_orphan_pages_are_200_html_pages_nobody_links_to() -> None:
    pages = make_pages(
        [
            {"url": "home", "found_via": "start"},
            {"url": "linked"},
            {"url": "via-redirect", "found_via": "redirect"},
            {"url": "old", "status": 301, "redirect_to": "via-redirect", "is_html": False},
            {"url": "self-linked", "found_via": "sitemap"},
            {"url": "orphan", "found_via": "sitemap"},
            {"url": "orphan-pdf", "found_via": "sitemap", "is_html": False},
            {"url": "orphan-404", "found_via": "sitemap", "status": 404},
        ]
    )
    links = make_links(
        [("home", "linked"), ("linked", "old"), ("self-linked", "self-linked"), ("orphan", "home")]
    )
    orphans = graph.orphan_pages(pages, links)
    assert sorted(orphans["url"]) == [url("orphan"), url("self-linked")]
    assert set(orphans["found_via"]) == {"sitemap"}
    findings = graph.orphan_findings(orphans)
    assert set(findings["category"]) == {"orphan_page"}


def test_dead_ends_are_indexable_pages_without_outlinks() -> None:
    pages = make_pages(
        [{"url": "home"}, {"url": "stuck"}, {"url": "self-only"}, {"url": "x", "indexable": False}]
    )
    links = make_links([("home", "stuck"), ("self-only", "self-only"), ("stuck", None)])
    assert sorted(graph.dead_ends(pages, links)["url"]) == [url("self-only"), url("stuck")]


# --------------------------------------------------------------------------- link problems


BROKEN_SITE_PAGES = [
    {"url": "home"},
    {"url": "missing", "status": 404, "is_html": False},
    {"url": "old", "status": 301, "redirect_to": "missing", "is_html": False},
    {"url": "fine-redirect", "status": 301, "redirect_to": "home", "is_html": False},
    {"url": "crash", "status": 503},
    {"url": "timeout", "status": None, "error": "TimeoutError", "is_html": False},
    {"url": "private", "status": None, "blocked_by_robots": True, "is_html": False},
    {"url": "loop1", "status": 301, "redirect_to": "loop2", "is_html": False},
    {"url": "loop2", "status": 301, "redirect_to": "loop1", "is_html": False},
]
BROKEN_SITE_LINKS = [
    ("home", "missing", "missing page", "content"),
    ("home", "missing", "again", "footer"),
    ("home", "old", "old page", "content"),
    ("home", "fine-redirect", "ok", "nav"),
    ("home", "crash", "crash", "content"),
    ("home", "timeout", "slow", "content"),
    ("home", "private", "private", "content"),
    ("home", "loop1", "loop", "content"),
    ("home", "never-requested", "unknown", "content"),
    ("home", "home", "self", "nav"),
]


@pytest.fixture
def broken() -> pd.DataFrame:
    pages = make_pages(BROKEN_SITE_PAGES)
    return graph.broken_links(pages, make_links(BROKEN_SITE_LINKS))


def test_broken_links_keep_one_row_per_occurrence(broken: pd.DataFrame) -> None:
    assert list(broken.columns) == graph.BROKEN_COLUMNS
    assert broken["target"].tolist().count(url("missing")) == 2
    assert sorted(broken["anchor"]) == sorted(
        ["missing page", "again", "old page", "crash", "slow", "loop"]
    )


@pytest.mark.parametrize(
    ("anchor", "target_status", "final_status", "reason"),
    [
        ("missing page", 404, 404, "HTTP 404"),
        ("old page", 301, 404, "redirects to HTTP 404"),
        ("crash", 503, 503, "HTTP 503"),
        ("slow", None, None, "no response: TimeoutError"),
        ("loop", 301, None, "redirect loop"),
    ],
)
def test_broken_links_explain_the_failure(
    broken: pd.DataFrame, anchor, target_status, final_status, reason
) -> None:
    row = broken.set_index("anchor").loc[anchor]
    assert row["reason"] == reason
    for column, expected in (("target_status", target_status), ("final_status", final_status)):
        if expected is None:
            assert pd.isna(row[column])
        else:
            assert row[column] == expected


def test_broken_link_findings_point_at_the_target(broken: pd.DataFrame) -> None:
    findings = graph.broken_link_findings(broken)
    assert set(findings["category"]) == {"broken_link"}
    assert set(findings["url"]) == {url("home")}
    assert url("old") in set(findings["target"])


def test_target_status_is_aligned_to_links() -> None:
    pages = make_pages(BROKEN_SITE_PAGES)
    links = make_links(BROKEN_SITE_LINKS).set_index(pd.Index(range(100, 110)))
    status = graph.target_status(pages, links)
    assert status.index.equals(links.index)
    assert status.tolist()[:5] == [404, 404, 301, 301, 503]
    assert pd.isna(status[105]) and pd.isna(status[108])
    assert status[109] == 200


@pytest.mark.parametrize(
    ("rel", "internal", "flagged"),
    [
        ("nofollow", True, True),
        ("noopener NoFollow", True, True),
        ("nofollower", True, False),
        ("", True, False),
        ("nofollow", False, False),
    ],
)
def test_nofollow_internal_links(rel: str, internal: bool, flagged: bool) -> None:
    links = make_links([("home", "b")]).assign(rel=rel, internal=internal)
    assert len(graph.nofollow_internal_links(links)) == int(flagged)


def test_pagerank_of_empty_graph_is_all_na() -> None:
    pages = make_pages([{"url": "x", "status": 404}])
    scores = graph.link_score(pages, make_links([]).reindex(columns=LINK_COLUMNS), EMPTY)
    assert scores.isna().all()


def test_pagerank_matches_networkx_on_a_random_300_page_site() -> None:
    rng = np.random.default_rng(3)
    names = [f"p{i}" for i in range(300)]
    edges = [(names[a], names[b]) for a, b in rng.integers(0, 300, size=(3000, 2))]
    pages = make_pages([{"url": n} for n in names])
    links = make_links(edges)
    ranks = graph.pagerank(pages, links, graph.resolve_redirects(pages))
    expected = reference_pagerank([(s, t) for s, t in edges if s != t], names)
    worst = max(abs(ranks[k] - v) for k, v in expected.items())
    assert worst < 1e-6
    assert all(math.isfinite(v) for v in graph.link_score(pages, links, EMPTY))


@pytest.mark.parametrize(
    ("analyse", "expected_rows"),
    [
        pytest.param(lambda p, lk: graph.link_counts(p, lk), 9, id="link_counts"),
        pytest.param(
            lambda p, lk: graph.link_score(p, lk, graph.resolve_redirects(p)), 9, id="link_score"
        ),
        pytest.param(
            lambda p, lk: graph.click_depth(p, lk, url("home"), graph.resolve_redirects(p)),
            9,
            id="click_depth",
        ),
        pytest.param(lambda p, lk: graph.orphan_pages(p, lk), 1, id="orphan_pages"),
        pytest.param(lambda p, lk: graph.dead_ends(p, lk), 1, id="dead_ends"),
        pytest.param(lambda p, lk: graph.broken_links(p, lk), 0, id="broken_links"),
        pytest.param(lambda p, lk: graph.target_status(p, lk), 0, id="target_status"),
        pytest.param(lambda p, lk: graph.nofollow_internal_links(lk), 0, id="nofollow"),
    ],
)
def test_a_crawl_without_links_is_analysed(analyse, expected_rows: int) -> None:
    """Only "home" is a 200 HTML page here: with no links it is an orphan and a dead end."""
    pages = make_pages(BROKEN_SITE_PAGES)
    no_links = make_links([]).reindex(columns=LINK_COLUMNS)
    assert len(analyse(pages, no_links)) == expected_rows
