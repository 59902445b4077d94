"""The internal link graph: redirects, link score, link counts, depth, orphans, broken links.

Every function takes the analysis frames (``pages``, ``links``; see ``docs/link-graph.md``)
and returns a new frame or series; nothing here reads or writes files. URLs are turned into
integer ids once (``pd.factorize`` + ``Index.get_indexer``) so the graph work is done by
numpy and scipy.sparse, never by a Python loop per page or per link.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from linkaudit.analysis.checks import concat_findings, make_findings
from linkaudit.analysis.model import flags

# Browsers give up after about 20 redirects; a chain this long is treated as a loop.
MAX_REDIRECT_HOPS = 100

PAGERANK_TOLERANCE = 1e-10
PAGERANK_MAX_ITERATIONS = 100

CHAIN_SEPARATOR = " -> "

RESOLVED_COLUMNS = ["url", "final_url", "hops", "chain", "loop", "final_status"]
BROKEN_COLUMNS = [
    "source",
    "target",
    "anchor",
    "position",
    "internal",
    "target_status",
    "final_url",
    "final_status",
    "reason",
]

_NOFOLLOW_RE = r"(?:^|\s)nofollow(?:\s|$)"


# --------------------------------------------------------------------------- helpers


def _page_table(pages: pd.DataFrame) -> pd.DataFrame:
    """``pages`` indexed by url, one row per url (the first wins if the crawl repeated one)."""
    return pages.drop_duplicates("url").set_index("url", drop=False)


def _encode(universe: pd.Index, values: pd.Series | np.ndarray) -> np.ndarray:
    """Position of each value in ``universe``; -1 for missing values and unknown URLs.

    Factorising first means each distinct URL is looked up once, however many links carry it.
    """
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    positions = universe.get_indexer(uniques)
    return np.where(codes >= 0, positions[codes] if len(positions) else -1, -1)


def _bool(series: pd.Series) -> np.ndarray:
    return flags(series).to_numpy()


def _status_between(status: pd.Series, low: int, high: int) -> np.ndarray:
    """True where ``low <= status < high``; False where there was no response."""
    values = pd.to_numeric(status, errors="coerce").astype("Float64")
    return ((values >= low) & (values < high)).fillna(False).to_numpy(dtype=bool)


def _unique_edges(sources: np.ndarray, targets: np.ndarray, n_nodes: int) -> tuple:
    """Distinct (source, target) id pairs, dropping unknown ends and self-links."""
    keep = (sources >= 0) & (targets >= 0) & (sources != targets)
    keys = _sorted_unique(sources[keep].astype(np.int64) * n_nodes + targets[keep])
    return keys // n_nodes, keys % n_nodes


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting: numpy 2's hash-based np.unique is ~20x slower on 3M int64."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _internal_links(links: pd.DataFrame) -> pd.DataFrame:
    return links[_bool(links["internal"]) & links["target"].notna().to_numpy()]


# --------------------------------------------------------------------------- redirects


def resolve_redirects(pages: pd.DataFrame) -> pd.DataFrame:
    """Follow every redirect (3xx, or a meta refresh, with ``redirect_to``) through ``pages``
    to its final URL.

    Columns: url, final_url (<NA> for a loop), hops (redirect responses followed), chain
    (the URLs joined by " -> ", a loop ends on the repeated URL), loop (bool), final_status
    (status of the final URL, <NA> if it was never requested or did not answer).
    """
    table = _page_table(pages)
    # A 200 page with a redirect_to is a meta refresh: a hop like a 3xx.
    hop_status = (_status_between(table["status"], 300, 400)
                  | _status_between(table["status"], 200, 201))
    redirecting = hop_status & table["redirect_to"].notna().to_numpy()
    hop_from = table["url"][redirecting].to_numpy(dtype=object)
    hop_to = table["redirect_to"][redirecting].to_numpy(dtype=object)
    if len(hop_from) == 0:
        return _empty_resolved()

    nodes = pd.Index(pd.unique(np.concatenate([hop_from, hop_to])))
    next_id = np.full(len(nodes), -1, dtype=np.int64)
    next_id[nodes.get_indexer(hop_from)] = nodes.get_indexer(hop_to)

    path, hops, loop = _walk_redirects(nodes.get_indexer(hop_from), next_id)
    names = nodes.to_numpy(dtype=object)
    last = path[np.arange(len(path)), hops]
    final_url = pd.Series(names[last], dtype="str").where(~loop)
    final_status = pd.Series(
        table["status"].reindex(final_url.fillna("")).to_numpy(), dtype="Int64"
    ).where(~loop)
    chains = [CHAIN_SEPARATOR.join(names[row[: n + 1]]) for row, n in zip(path, hops, strict=True)]
    return pd.DataFrame(
        {
            "url": pd.Series(hop_from, dtype="str"),
            "final_url": final_url,
            "hops": hops.astype(np.int64),
            "chain": pd.Series(chains, dtype="str"),
            "loop": loop,
            "final_status": final_status,
        }
    )


def _empty_resolved() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "url": pd.Series(dtype="str"),
            "final_url": pd.Series(dtype="str"),
            "hops": pd.Series(dtype=np.int64),
            "chain": pd.Series(dtype="str"),
            "loop": pd.Series(dtype=bool),
            "final_status": pd.Series(dtype="Int64"),
        }
    )


def _walk_redirects(starts: np.ndarray, next_id: np.ndarray) -> tuple:
    """Walk all redirect chains in step: one numpy pass per hop, not one call per URL.

    Returns the path matrix (row per start, -1 padded), hops per row and the loop flags.
    Each URL has at most one next hop, so a walk either ends or revisits a URL it saw.
    """
    columns = [starts, next_id[starts]]
    hops = np.ones(len(starts), dtype=np.int64)
    loop = columns[1] == starts
    active = ~loop & (next_id[columns[1]] >= 0)
    while active.any():
        current = columns[-1]
        step = np.where(active, next_id[np.where(active, current, 0)], -1)
        revisit = np.zeros(len(starts), dtype=bool)
        for seen in columns:
            revisit |= active & (seen == step)
        too_long = active & (hops + 1 >= MAX_REDIRECT_HOPS)
        loop |= revisit | too_long
        hops += active
        columns.append(step)
        active &= ~revisit & ~too_long & (next_id[np.maximum(step, 0)] >= 0) & (step >= 0)
    return np.column_stack(columns), hops, loop


def _redirect_map(resolved: pd.DataFrame) -> pd.Series:
    """url -> final URL for every redirect; loops map to <NA> (they lead nowhere)."""
    return pd.Series(resolved["final_url"].to_numpy(), index=resolved["url"].to_numpy())


def _credited_urls(urls: np.ndarray, pages: pd.DataFrame, resolved: pd.DataFrame) -> np.ndarray:
    """Where a link to each URL sends its credit: final URL of a redirect, then canonical.

    A canonicalised page passes its credit to the canonical URL, which may itself redirect.
    """
    redirect = _redirect_map(resolved)
    canonical = _canonical_map(pages)
    credited = pd.Series(urls, dtype="str")
    for mapping in (redirect, canonical, redirect):
        mapped = credited.map(mapping)
        credited = mapped.where(credited.isin(mapping.index), credited)
    return credited.to_numpy(dtype=object, na_value=None)


def _canonical_map(pages: pd.DataFrame) -> pd.Series:
    table = _page_table(pages)
    ok = _status_between(table["status"], 200, 300)
    other = table["canonical"].notna() & (table["canonical"] != table["url"]).fillna(False)
    chosen = table[ok & other.to_numpy(dtype=bool)]
    return pd.Series(chosen["canonical"].to_numpy(), index=chosen["url"].to_numpy())


# --------------------------------------------------------------------------- link score


def pagerank(
    pages: pd.DataFrame,
    links: pd.DataFrame,
    redirects_resolved: pd.DataFrame,
    damping: float = 0.85,
) -> pd.Series:
    """PageRank probabilities (sum 1) of internal indexable pages, indexed by every page url.

    The graph is the set of unique internal links between indexable pages, with link
    targets credited through redirects and canonicals; self-links are dropped and a page
    without outlinks spreads its rank over all pages. Pages outside the graph get <NA>.
    """
    table = _page_table(pages)
    in_graph = _bool(table["internal"]) & _bool(table["indexable"])
    nodes = pd.Index(table["url"][in_graph].to_numpy(dtype=object))
    ranks = np.empty(0)
    if len(nodes):
        sources, targets = _credited_edges(nodes, pages, links, redirects_resolved)
        ranks = _power_iteration(sources, targets, len(nodes), damping)
    result = pd.Series(pd.NA, index=table.index, dtype="Float64", name="pagerank_probability")
    result[in_graph] = ranks
    result.index.name = "url"
    return result


def _credited_edges(
    nodes: pd.Index, pages: pd.DataFrame, links: pd.DataFrame, resolved: pd.DataFrame
) -> tuple:
    internal = _internal_links(links)
    target_codes, unique_targets = pd.factorize(internal["target"].to_numpy(dtype=object))
    credited = _credited_urls(np.asarray(unique_targets, dtype=object), pages, resolved)
    target_ids = nodes.get_indexer(pd.Index(credited, dtype=object))[target_codes]
    source_ids = _encode(nodes, internal["source"])
    return _unique_edges(source_ids, target_ids, len(nodes))


def _power_iteration(
    sources: np.ndarray, targets: np.ndarray, n_nodes: int, damping: float
) -> np.ndarray:
    out_degree = np.bincount(sources, minlength=n_nodes).astype(np.float64)
    # Column-stochastic transition matrix: rank flows from a page to each page it links.
    transition = sparse.csr_matrix(
        (1.0 / out_degree[sources], (targets, sources)), shape=(n_nodes, n_nodes)
    )
    dangling = out_degree == 0
    rank = np.full(n_nodes, 1.0 / n_nodes)
    for _ in range(PAGERANK_MAX_ITERATIONS):
        spread = rank[dangling].sum() / n_nodes
        updated = damping * (transition @ rank + spread) + (1.0 - damping) / n_nodes
        change = np.abs(updated - rank).sum()
        rank = updated
        if change < PAGERANK_TOLERANCE:
            break
    return rank / rank.sum()


def link_score(
    pages: pd.DataFrame,
    links: pd.DataFrame,
    redirects_resolved: pd.DataFrame,
    damping: float = 0.85,
) -> pd.Series:
    """Link score 0-100 on a log scale (100 = strongest page), <NA> outside the graph.

    score = 100 * (ln pr - ln min_pr) / (ln max_pr - ln min_pr), rounded to 1 decimal;
    every page scores 100 when all ranks are equal. Series named "pagerank", index url.
    """
    ranks = pagerank(pages, links, redirects_resolved, damping)
    known = ranks.dropna().to_numpy(dtype=np.float64)
    score = pd.Series(pd.NA, index=ranks.index, dtype="Float64", name="pagerank")
    if len(known) == 0:
        return score
    logs = np.log(known)
    spread = logs.max() - logs.min()
    scaled = 100.0 * (logs - logs.min()) / spread if spread > 0 else np.full(len(logs), 100.0)
    score[ranks.notna().to_numpy(dtype=bool)] = np.round(scaled, 1)
    return score


# --------------------------------------------------------------------------- counts and depth


def link_counts(pages: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Per page url: inlinks (distinct internal pages linking here) and outlinks (distinct
    internal pages linked from here). Self-links and repeated links are counted once or not.
    """
    internal = _internal_links(links)
    source_codes, source_urls = pd.factorize(internal["source"].to_numpy(dtype=object))
    target_codes, target_urls = pd.factorize(internal["target"].to_numpy(dtype=object))
    page_urls = pages["url"].to_numpy(dtype=object)
    # Targets that were never requested still count as outlinks of their source.
    universe = pd.Index(pd.unique(np.concatenate([page_urls, source_urls, target_urls])))
    sources, targets = _unique_edges(
        universe.get_indexer(source_urls)[source_codes],
        universe.get_indexer(target_urls)[target_codes],
        len(universe),
    )
    page_ids = universe.get_indexer(page_urls)
    inlinks = np.bincount(targets, minlength=len(universe))[page_ids]
    outlinks = np.bincount(sources, minlength=len(universe))[page_ids]
    return pd.DataFrame(
        {"url": pages["url"].to_numpy(), "inlinks": inlinks, "outlinks": outlinks},
        index=pages.index,
    ).astype({"inlinks": "Int64", "outlinks": "Int64"})


def click_depth(
    pages: pd.DataFrame,
    links: pd.DataFrame,
    start_url: str,
    redirects_resolved: pd.DataFrame,
) -> pd.Series:
    """Fewest clicks from ``start_url`` to each page url over internal links; <NA> if
    unreachable. A link to a redirect reaches both the redirect and its final URL.
    """
    urls = pages["url"].to_numpy(dtype=object)
    universe = pd.Index(pd.unique(np.concatenate([urls, np.array([start_url], dtype=object)])))
    internal = _internal_links(links)
    source_ids = _encode(universe, internal["source"])
    target_codes, unique_targets = pd.factorize(internal["target"].to_numpy(dtype=object))
    finals = pd.Series(unique_targets, dtype="str").map(_redirect_map(redirects_resolved))
    final_ids = _encode(universe, finals.to_numpy(dtype=object, na_value=None))[target_codes]
    target_ids = universe.get_indexer(pd.Index(unique_targets, dtype=object))[target_codes]
    edges = _unique_edges(
        np.concatenate([source_ids, source_ids]),
        np.concatenate([target_ids, final_ids]),
        len(universe),
    )
    starts = _start_ids(universe, start_url, redirects_resolved)
    distances = _bfs_depth(edges, len(universe), starts)
    page_depth = distances[universe.get_indexer(urls)]
    result = pd.Series(page_depth, index=pd.Index(urls, name="url"), dtype="Float64")
    return result.where(np.isfinite(page_depth)).astype("Int64").rename("depth")


def _start_ids(universe: pd.Index, start_url: str, resolved: pd.DataFrame) -> np.ndarray:
    """The start URL, plus where it redirects to: reaching it costs no click."""
    final = _redirect_map(resolved).get(start_url)
    candidates = [start_url] + ([final] if isinstance(final, str) else [])
    ids = universe.get_indexer(pd.Index(candidates, dtype=object))
    return ids[ids >= 0]


def _bfs_depth(edges: tuple, n_nodes: int, starts: np.ndarray) -> np.ndarray:
    sources, targets = edges
    adjacency = sparse.csr_matrix(
        (np.ones(len(sources)), (sources, targets)), shape=(n_nodes, n_nodes)
    )
    distances = csgraph.shortest_path(adjacency, directed=True, unweighted=True, indices=starts)
    return np.atleast_2d(distances).min(axis=0)


# --------------------------------------------------------------------------- page problems


def orphan_pages(pages: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Internal 200 HTML pages that no other page links to (so found only via the sitemap).

    Links to a redirect count for its final URL; the start URL is never an orphan.
    Columns: url, found_via, title.
    """
    internal = _internal_links(links)
    resolved = resolve_redirects(pages)
    target_codes, unique_targets = pd.factorize(internal["target"].to_numpy(dtype=object))
    finals = pd.Series(unique_targets, dtype="str").map(_redirect_map(resolved))
    credited = finals.fillna(pd.Series(unique_targets, dtype="str")).to_numpy(dtype=object)
    targets = credited[target_codes]
    linked = pd.unique(targets[targets != internal["source"].to_numpy(dtype=object)])
    candidates = (
        _bool(pages["internal"])
        & _bool(pages["is_html"])
        & _status_between(pages["status"], 200, 201)
        & (pages["found_via"] != "start").fillna(True).to_numpy(dtype=bool)
    )
    orphans = pages[candidates & ~pages["url"].isin(linked).to_numpy(dtype=bool)]
    return orphans[[c for c in ("url", "found_via", "title") if c in pages]].reset_index(drop=True)


def dead_ends(pages: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Indexable pages with no internal outlink to another page. Columns: url, title."""
    counts = link_counts(pages, links)
    stuck = _bool(pages["indexable"]) & (counts["outlinks"] == 0).to_numpy(dtype=bool)
    return pages[stuck][[c for c in ("url", "title") if c in pages]].reset_index(drop=True)


# --------------------------------------------------------------------------- link problems


def target_status(pages: pd.DataFrame, links: pd.DataFrame) -> pd.Series:
    """HTTP status of each link's target if it was requested, else <NA>; aligned to links."""
    table = _page_table(pages)
    statuses = pd.array(table["status"].to_numpy(), dtype="Int64")
    ids = _encode(pd.Index(table["url"].to_numpy(dtype=object)), links["target"])
    picked = pd.array(np.zeros(len(ids), dtype=np.int64), dtype="Int64")
    if len(statuses):
        picked = statuses[np.maximum(ids, 0)]
    result = pd.Series(picked, index=links.index, dtype="Int64", name="target_status")
    return result.where(ids >= 0)


def broken_links(pages: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """One row per link occurrence whose requested target fails: answers 4xx/5xx, redirects
    to a 4xx/5xx, redirects in a loop, or gave no response (robots-blocked targets excepted).

    Columns: source, target, anchor, position, internal, target_status, final_url,
    final_status, reason.
    """
    codes, unique_targets = pd.factorize(links["target"].to_numpy(dtype=object))
    verdicts = _target_verdicts(pages, pd.Series(unique_targets, dtype="str"))
    # One extra False slot so that links without a target (code -1) are never broken.
    broken_code = np.append(verdicts["broken"].to_numpy(dtype=bool), False)
    rows = np.flatnonzero(broken_code[codes])
    result = links.iloc[rows][["source", "target", "anchor", "position", "internal"]]
    found = verdicts.iloc[codes[rows]].drop(columns="broken").set_index(result.index)
    return pd.concat([result, found], axis=1)[BROKEN_COLUMNS].reset_index(drop=True)


def _target_verdicts(pages: pd.DataFrame, target: pd.Series) -> pd.DataFrame:
    """For each distinct link target: target_status, final_url, final_status, reason, broken."""
    table = _page_table(pages)
    status = pd.Series(table["status"].reindex(target).to_numpy(), dtype="Int64")
    resolved = resolve_redirects(pages).set_index("url")
    is_redirect = target.isin(resolved.index).to_numpy(dtype=bool)
    looped = target.map(resolved["loop"]).fillna(False).to_numpy(dtype=bool)
    final_url = target.map(resolved["final_url"]).where(is_redirect, target)
    final_status = pd.Series(
        table["status"].reindex(final_url.fillna("")).to_numpy(), dtype="Int64"
    )
    reached = final_url.isin(table.index).to_numpy(dtype=bool)
    blocked = final_url.map(table["blocked_by_robots"]).fillna(False).to_numpy(dtype=bool)
    silent = reached & final_status.isna().to_numpy(dtype=bool) & ~blocked & ~looped
    failed = _status_between(final_status, 400, 600) & ~looped
    requested = target.isin(table.index).to_numpy(dtype=bool)
    errors = final_url.map(table["error"]) if "error" in table else None
    return pd.DataFrame(
        {
            "target_status": status,
            "final_url": final_url.where(~looped),
            "final_status": final_status,
            "reason": _broken_reasons(status, final_status, looped, is_redirect, errors),
            "broken": requested & (failed | silent | looped),
        }
    )


def _broken_reasons(
    status: pd.Series,
    final_status: pd.Series,
    looped: np.ndarray,
    is_redirect: np.ndarray,
    errors: pd.Series | None,
) -> pd.Series:
    """Readable cause per broken link: "HTTP 404", "redirects to HTTP 500", "no response: ..."."""
    error_text = (
        # Missing errors may come as float NaN (a column of no error at all): filled once
        # the column is text, since filling a float column with "" is refused by pandas 4.
        errors.astype("str").fillna("") if errors is not None
        else pd.Series("", index=status.index)
    )
    no_response = np.where(error_text != "", "no response: " + error_text, "no response")
    http = "HTTP " + final_status.astype("Float64").fillna(0).astype(int).astype("str")
    reason = pd.Series(
        np.where(final_status.isna(), no_response, http), index=status.index, dtype="str"
    )
    redirected = is_redirect & ~looped
    reason[redirected] = "redirects to " + reason[redirected]
    reason[looped] = "redirect loop"
    return reason


def is_nofollow(rel: pd.Series) -> pd.Series:
    """True where a rel attribute holds the nofollow token."""
    return rel.fillna("").astype("str").str.contains(_NOFOLLOW_RE, case=False, regex=True)


def nofollow_internal_links(links: pd.DataFrame) -> pd.DataFrame:
    """Internal links whose rel attribute holds the nofollow token (all link columns)."""
    nofollow = is_nofollow(links["rel"]).to_numpy(dtype=bool)
    return links[_bool(links["internal"]) & nofollow].reset_index(drop=True)


def final_urls(redirects_resolved: pd.DataFrame) -> pd.Series:
    """Final URL of every redirecting URL (index url); <NA> for loops."""
    if redirects_resolved.empty:
        return pd.Series(dtype=object)
    return redirects_resolved.set_index("url")["final_url"]


# --------------------------------------------------------------------------- findings


def redirect_findings(redirects_resolved: pd.DataFrame) -> pd.DataFrame:
    """redirect_loop (error) and redirect_chain (warning, 2+ hops) findings."""
    resolved = redirects_resolved
    loops = resolved[resolved["loop"].to_numpy(dtype=bool)]
    chains = resolved[(~resolved["loop"] & (resolved["hops"] >= 2)).to_numpy(dtype=bool)]
    return concat_findings([
        make_findings(loops, "redirect_loop", lambda f: "redirect loop: " + f["chain"]),
        make_findings(chains, "redirect_chain",
                      lambda f: f["hops"].astype("str") + " redirects: " + f["chain"]),
    ])


def broken_link_findings(broken: pd.DataFrame) -> pd.DataFrame:
    """One broken_link error per broken link occurrence, on the linking page."""
    return make_findings(
        broken, "broken_link",
        lambda f: f["reason"] + ' (anchor "' + f["anchor"].fillna("").astype("str") + '")',
        url="source", target="target")


def orphan_findings(orphans: pd.DataFrame) -> pd.DataFrame:
    return make_findings(
        orphans, "orphan_page",
        lambda f: "no internal page links here (found via " + f["found_via"].fillna("?") + ")")
