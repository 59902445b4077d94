"""The per-page work done while the crawl runs (analysis/prepare.py, linkaudit/preparing.py):
the audit of a real site is the same with it as without it, the preparing process reads the
pages written after it started, and a preparer that dies leaves the audit to do the work."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
from pathlib import Path

import pytest

from linkaudit import storage
from linkaudit.analysis.audit import build_audit
from linkaudit.analysis.load import load_crawl
from linkaudit.analysis.prepare import Prepared
from linkaudit.analysis.text import page_documents
from linkaudit.config import load_config, promo_rules
from linkaudit.crawler.items import Heading, PageExtract, PageItem, Section
from linkaudit.crawler.pipelines import write_item
from linkaudit.crawler.urls import Site
from linkaudit.preparing import PagePreparer
from linkaudit.upgrade import decide_missing
from linkaudit.writers.background import can_fork

REAL = Path(__file__).parent / "realsites"
needs_fork = pytest.mark.skipif(not can_fork(),
                                reason="no fork, one core, or other threads running")


def real_store(name: str, folder: Path) -> Path:
    store = folder / "crawls.sqlite"
    with gzip.open(REAL / name / "crawls.sqlite.gz") as packed, store.open("wb") as unpacked:
        shutil.copyfileobj(packed, unpacked)
    decide_missing(store)  # stored by an older linkaudit
    return store


def prepare_all(store: Path) -> Prepared:
    prepared, after = Prepared(), 0
    conn = storage.readonly(store)
    try:
        while True:
            frames, last = storage.read_new_pages(conn, after, 50)
            if frames:
                prepared.add(frames["pages"], frames["sections"], frames["headings"])
            if last == after:
                return prepared
            after = last
    finally:
        conn.close()


@pytest.mark.parametrize("site", ["natbienetre"])
def test_a_real_sites_audit_is_the_same_with_pages_prepared_ahead(site, tmp_path) -> None:
    store = real_store(site, tmp_path)
    config = load_config()
    crawl = load_crawl(store)
    prepared = prepare_all(store)
    assert len(prepared) >= crawl.pages["indexable"].sum() > 20
    with_prepared = build_audit(crawl, config.analysis, promo_rules(config), prepared=prepared)
    alone = build_audit(crawl, config.analysis, promo_rules(config))
    assert not with_prepared.failures and not alone.failures
    for name in ("pages", "links", "findings", "offtopic", "sections", "clusters"):
        assert getattr(with_prepared, name).equals(getattr(alone, name)), name
    assert with_prepared.relevance_threshold == alone.relevance_threshold
    # The prepared languages were used: the documents stage found them all.
    assert len(prepared.languages) >= len(with_prepared.clusters)


def test_a_changed_page_is_analysed_again_not_read_from_what_was_prepared(tmp_path) -> None:
    store = real_store("natbienetre", tmp_path)
    prepared = prepare_all(store)
    crawl = load_crawl(store)
    url = crawl.sections["url"].iloc[0]
    sections = crawl.sections.copy()
    sections.loc[sections["url"] == url, "text"] = "Un tout autre texte sur la calvitie. " * 40
    docs_rows = page_documents(crawl.pages, sections, crawl.headings,
                               languages=prepared.languages)
    row = docs_rows[docs_rows["url"] == url].iloc[0].to_dict()
    stems = {stem for stem, _ in prepared.terms.pairs(row)}
    assert "calvit" in stems


def _page(i: int, base: str) -> PageItem:
    text = " ".join(["baclofène", "spasticité", "dépendance", "alcool"] * 30)
    extract = PageExtract(title=f"Article {i}", meta_description="", lang="fr",
                          headings=[Heading(order=0, level=1, text=f"Article {i}")],
                          sections=[Section(order=0, level=2, heading="Partie", text=text)],
                          links=[], word_count=120, content_hash=f"{i:040x}")
    return PageItem(url=f"{base}/a{i}.html", status=200, content_type="text/html", depth=1,
                    found_via="link", extract=extract)


@needs_fork
def test_the_preparer_prepares_the_pages_written_after_it_started(tmp_path) -> None:
    base = "https://sante.example"
    store = tmp_path / "crawls.sqlite"
    conn = storage.connect(store)
    crawl_id = storage.start_crawl(conn, "sante", f"{base}/a0.html", {})
    site = Site({"sante.example"})
    write_item(conn, crawl_id, _page(0, base), site)  # before: left to the audit
    preparer = PagePreparer(store)
    for i in range(1, 8):
        write_item(conn, crawl_id, _page(i, base), site)
    conn.close()
    prepared = preparer.finish()
    assert prepared is not None
    assert sorted(prepared.terms._words) == [f"{base}/a{i}.html" for i in range(1, 8)]
    assert set(prepared.languages.values()) == {"fr"}


@needs_fork
def test_a_preparer_that_dies_gives_nothing_and_the_audit_does_the_work(tmp_path) -> None:
    preparer = PagePreparer(tmp_path / "crawls.sqlite")  # the store does not exist yet
    os.kill(preparer._job._pid, signal.SIGKILL)
    assert preparer.finish(timeout=10) is None
