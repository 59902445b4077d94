"""The crawl store: one SQLite database per site that keeps every crawl.

Every SQL statement of linkaudit is here. The crawler's pipeline writes rows through it as
pages arrive; the analysis reads crawls back as DataFrames; the command line keeps each
crawl's life and audit snapshots. It imports none of linkaudit's other packages.
"""

from linkaudit.storage.crawls import (
    CrawlInfo,
    PageOutcome,
    counts,
    crawl_stats,
    finish_crawl,
    get_crawl,
    last_unfinished_crawl,
    list_crawls,
    mark_abandoned,
    mark_failed,
    mark_running,
    newest_crawl,
    page_outcome,
    previous_complete_crawl,
    resume_state,
    set_job_dir,
    set_settings,
    start_crawl,
)
from linkaudit.storage.decisions import (
    record_decisions,
    undecided_crawls,
    undecided_links,
    undecided_pages,
)
from linkaudit.storage.frames import (
    StoredCrawl,
    last_page_row,
    read_crawl,
    read_new_pages,
    read_snapshot,
)
from linkaudit.storage.pages import (
    carry_over,
    checked_external,
    followed_targets,
    validators,
    write_external_check,
    write_page,
)
from linkaudit.storage.schema import (
    SCHEMA_VERSION,
    STORE_NAME,
    Connection,
    StoreError,
    check_store,
    connect,
    default_path,
    has_table,
    opened,
    opened_readonly,
    readonly,
    table_columns,
    utc_now,
)
from linkaudit.storage.snapshots import (
    audit_summaries,
    complete_crawls,
    previous_complete,
    save_snapshot,
)

__all__ = [
    "SCHEMA_VERSION", "STORE_NAME", "Connection", "CrawlInfo", "PageOutcome", "StoreError",
    "StoredCrawl",
    "audit_summaries", "carry_over", "check_store", "checked_external", "complete_crawls",
    "connect", "counts",
    "crawl_stats", "default_path", "finish_crawl", "followed_targets", "get_crawl",
    "has_table", "last_page_row", "last_unfinished_crawl", "list_crawls", "mark_abandoned",
    "mark_failed",
    "mark_running", "newest_crawl", "opened", "opened_readonly", "page_outcome",
    "previous_complete", "previous_complete_crawl", "read_crawl", "read_new_pages",
    "read_snapshot", "readonly",
    "record_decisions", "undecided_crawls", "undecided_links", "undecided_pages",
    "resume_state", "save_snapshot", "set_job_dir", "set_settings", "start_crawl",
    "table_columns", "utc_now", "validators", "write_external_check", "write_page",
]
