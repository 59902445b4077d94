"""Reading the crawl store back as frames."""

from __future__ import annotations

import pandas as pd

from linkaudit import storage
from linkaudit.storage import frames


def test_a_table_read_in_chunks_is_the_table_read_whole(tmp_path, monkeypatch) -> None:
    """The store is read a few thousand rows at a time; a chunk whose column is all NULL
    (external links have no target page, images no anchor) must not change the types."""
    path = tmp_path / "chunks.sqlite"
    conn = storage.connect(path)
    crawl_id = storage.start_crawl(conn, "s", "http://127.0.0.1:1/", {})
    for n in range(5):
        internal = n >= 3  # the first chunks hold only links without a target
        links = [(k, f"/p{k}", f"http://127.0.0.1:1/p{k}" if internal else None, f"a{k}",
                  "", "main", "ctx", "para", 0, 1 if internal else None) for k in range(2)]
        storage.write_page(conn, crawl_id, {"url": f"http://127.0.0.1:1/{n}", "status": 200,
                                            "found_via": "link", "is_html": 1}, links=links)
    conn.close()
    whole = storage.read_crawl(path, crawl_id).frames["links"]
    monkeypatch.setattr(frames, "READ_CHUNK", 2)
    chunked = storage.read_crawl(path, crawl_id).frames["links"]
    assert len(chunked) == 10
    assert chunked.dtypes.to_dict() == whole.dtypes.to_dict()
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked["target"].isna().sum() == 6
