"""The stages that need no topic model (promotional links, near-duplicates) run in a forked
process while the topics are fitted (analysis/audit.py, ``beside``): the audit of a real
site is the same with it as without it, a stage that fails there is recorded as it would
be without it, and a process that dies leaves the audit to do the work."""

from __future__ import annotations

import os
import signal

import pytest

from linkaudit.analysis import audit as audit_module
from linkaudit.analysis.audit import build_audit
from linkaudit.analysis.load import load_crawl
from linkaudit.auditing import forked_job
from linkaudit.config import load_config, promo_rules
from linkaudit.writers.background import can_fork
from tests.test_prepare import real_store

needs_fork = pytest.mark.skipif(not can_fork(),
                                reason="no fork, one core, or other threads running")
FRAMES = ("pages", "links", "headings", "findings", "offtopic", "sections", "clusters")
CONFIG = load_config(None)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    # A real site (an Elementor blog) with promotional links and near-duplicate pages.
    return load_crawl(real_store("specmatic", tmp_path_factory.mktemp("specmatic")))


@pytest.fixture(scope="module")
def alone(crawl):
    return build_audit(crawl, CONFIG.analysis, promo_rules(CONFIG))


def _same(audit, other) -> None:
    for name in FRAMES:
        assert getattr(audit, name).equals(getattr(other, name)), name
    assert audit.relevance_threshold == other.relevance_threshold
    assert [(f.stage, f.error) for f in audit.failures] == \
        [(f.stage, f.error) for f in other.failures]


@needs_fork
def test_a_real_sites_audit_is_the_same_with_the_stages_beside_the_topics(crawl, alone):
    audit = build_audit(crawl, CONFIG.analysis, promo_rules(CONFIG), beside=forked_job)
    _same(audit, alone)
    assert not audit.failures
    assert audit.links["promotional"].sum() > 0
    assert audit.pages["near_duplicate_of"].notna().sum() > 0
    beside = {name for name in audit.profile if name.endswith("(beside the topics)")}
    assert beside == {"promotional (beside the topics)", "near_duplicates (beside the topics)"}


@needs_fork
def test_a_stage_failing_beside_the_topics_is_recorded_as_without_the_process(crawl,
                                                                             monkeypatch):
    def broken(*_args):
        raise ValueError("a rule that cannot be read")

    monkeypatch.setattr(audit_module, "promo_columns", broken)
    alone = build_audit(crawl, CONFIG.analysis, promo_rules(CONFIG))
    forked = build_audit(crawl, CONFIG.analysis, promo_rules(CONFIG), beside=forked_job)
    _same(forked, alone)
    assert [f.stage for f in forked.failures] == ["promotional"]
    assert "a rule that cannot be read" in forked.failures[0].error
    assert not forked.links["promotional"].any()
    assert "near_duplicates (beside the topics)" in forked.profile


@needs_fork
def test_a_process_beside_the_topics_that_dies_leaves_the_audit_to_do_the_work(crawl, alone):
    def killed(_work):
        return forked_job(lambda: os.kill(os.getpid(), signal.SIGKILL))

    audit = build_audit(crawl, CONFIG.analysis, promo_rules(CONFIG), beside=killed)
    _same(audit, alone)
    assert not any(name.endswith("(beside the topics)") for name in audit.profile)
