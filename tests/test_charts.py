import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import matplotlib.colors
import numpy as np
import pytest
from PIL import Image

from linkaudit.writers import charts
from linkaudit.writers.charts import CHARTS, OFF_TOPIC_RED, topic_colours, write_charts
from tests.audit_factory import make_audit

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small_audit():
    return make_audit(40, hostile_title=True)


@pytest.fixture(scope="module")
def big_audit():
    return make_audit(10_000, n_topics=30, seed=11)


def assert_real_png(path: Path, min_side: int = 300, max_side: int = 4000) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        width, height = image.size
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert min_side <= width <= max_side
    assert min_side <= height <= max_side
    assert pixels.var() > 0, "blank image"


@pytest.mark.parametrize("name", list(CHARTS))
def test_each_chart_of_the_small_site_is_a_real_png(small_audit, tmp_path, name):
    draw, _ = CHARTS[name]
    path = draw(small_audit, tmp_path / name)
    assert path == tmp_path / name
    assert_real_png(path)


def test_write_charts_writes_every_chart_into_the_directory(small_audit, tmp_path):
    paths = write_charts(small_audit, tmp_path / "out")
    assert [p.name for p in paths] == list(CHARTS)
    assert all(p.parent == tmp_path / "out" and p.exists() for p in paths)


def test_charts_of_a_10000_page_site_render(big_audit, tmp_path):
    started = time.perf_counter()
    paths = write_charts(big_audit, tmp_path)
    elapsed = time.perf_counter() - started
    sizes = ", ".join(f"{p.name} {p.stat().st_size // 1024} KiB" for p in paths)
    print(f"\n10,000-page charts: {elapsed:.1f} s ({sizes})")
    assert [p.name for p in paths] == list(CHARTS)
    for path in paths:
        assert_real_png(path)


def test_link_graph_is_drawn_by_topic_at_any_size(small_audit, big_audit, tmp_path):
    from linkaudit.writers.topic_graph import MAX_TOPICS, topic_graph

    for audit in (small_audit, big_audit):
        graph = topic_graph(audit)
        assert len(graph.nodes) <= MAX_TOPICS
        assert graph.nodes["pages"].sum() == graph.pages
        path = charts.link_graph(audit, tmp_path / "g.png")
        assert_real_png(path)
    assert len(topic_graph(big_audit).nodes) == MAX_TOPICS  # 30 topics: the smallest merged


def test_section_chart_is_skipped_when_no_section_is_incoherent(small_audit, tmp_path):
    sections = small_audit.sections.assign(incoherent=False)
    audit = replace(small_audit, sections=sections)
    assert charts.section_coherence(audit, tmp_path / "s.png") is None
    assert not (tmp_path / "s.png").exists()


def test_relevance_chart_is_skipped_without_scored_links(small_audit, tmp_path):
    audit = replace(small_audit, links=small_audit.links.assign(relevance=np.nan))
    assert charts.relevance_distribution(audit, tmp_path / "r.png") is None


def test_relevance_chart_draws_without_a_threshold(small_audit, tmp_path):
    audit = replace(small_audit, relevance_threshold=None)
    assert_real_png(charts.relevance_distribution(audit, tmp_path / "r.png"))


def test_charts_of_an_empty_crawl_are_all_skipped(small_audit, tmp_path):
    audit = replace(
        small_audit,
        pages=small_audit.pages.head(0),
        links=small_audit.links.head(0),
        sections=small_audit.sections.head(0),
    )
    assert write_charts(audit, tmp_path) == []


def test_dollar_signs_and_accents_in_titles_render_literally(small_audit, tmp_path):
    pages = small_audit.pages.copy()
    pages.loc[0, "title"] = "Tarifs 50$ à 90$ : épilation, œdème, ça coûte $x^2$"
    path = charts.top_pages(replace(small_audit, pages=pages), tmp_path / "t.png")
    assert_real_png(path)


def test_topic_colours_never_use_the_off_topic_red(big_audit):
    red = matplotlib.colors.to_rgb(OFF_TOPIC_RED)
    colours = topic_colours(big_audit.pages)
    assert len(colours) == big_audit.pages["topic"].nunique()
    distances = [
        np.linalg.norm(np.subtract(matplotlib.colors.to_rgb(c), red)) for c in colours.values()
    ]
    assert min(distances) > 0.15


def test_page_label_prefers_the_title_then_the_path():
    assert charts.page_label("Un titre très long " * 5, "https://x.fr/a", 20).endswith("…")
    assert charts.page_label(None, "https://x.fr/dossier/page?q=1") == "/dossier/page?q=1"
    assert charts.page_label("  ", "https://x.fr") == "/"


def test_drawing_charts_never_loads_pyplot(tmp_path):
    # pyplot would pick a GUI backend and keep global figure state.
    code = (
        "import sys; from pathlib import Path;"
        "from tests.audit_factory import make_audit;"
        "from linkaudit.writers.charts import write_charts;"
        f"write_charts(make_audit(40), Path({str(tmp_path)!r}));"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    assert out.stdout.strip() == "False"
