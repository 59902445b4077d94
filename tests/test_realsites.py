"""The labelled links of real sites (tests/realsites) are sound test data: every label
names a content link of the stored crawl, follows the labelling guide, and the holdout
split is the one the README fixes (by hash, chosen before any tuning)."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from linkaudit.analysis.load import load_crawl
from linkaudit.upgrade import decide_missing

ROOT = Path(__file__).parent / "realsites"
SITES = sorted(path.parent for path in ROOT.glob("*/labels.json"))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module", params=SITES, ids=[site.name for site in SITES])
def site(request, tmp_path_factory):
    folder: Path = request.param
    store = tmp_path_factory.mktemp(folder.name) / "crawls.sqlite"
    with gzip.open(folder / "crawls.sqlite.gz") as packed, store.open("wb") as unpacked:
        shutil.copyfileobj(packed, unpacked)
    labels = json.loads((folder / "labels.json").read_text("utf-8"))
    decide_missing(store)  # stored by an older linkaudit
    return folder, labels, load_crawl(store)


def test_every_label_names_a_content_link_of_the_stored_crawl(site) -> None:
    _, labels, crawl = site
    links = crawl.links
    content = links[links["position"] == "content"]
    known = set(zip(content["source"].map(path_of), content["target"].fillna("").map(path_of),
                    content["anchor"], strict=True))
    missing = [(label["source"], label["target"], label["anchor"]) for label in labels["links"]
               if (label["source"], label["target"], label["anchor"]) not in known]
    assert not missing, missing[:5]


def test_labels_follow_the_guide(site) -> None:
    folder, labels, _ = site
    site_info = json.loads((folder / "site.json").read_text("utf-8"))
    assert site_info["licence"] and site_info["source"]["repo"]
    for label in labels["links"]:
        assert label["off_topic"] in (True, False, None)
        assert label["promotional"] in (True, False)
        assert label["why"].strip()
        digest = hashlib.sha1(f"{label['source']} {label['target']}".encode()).hexdigest()
        assert label["split"] == ("holdout" if int(digest, 16) % 3 == 0 else "tune")
