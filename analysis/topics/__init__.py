"""Topic model of a site: page vectors, topic clusters, calibrated off-topic thresholds and
the relevance of every link, one module each (vectors, clustering, thresholds, model,
relevance); the package re-exports the names the rest of linkaudit uses. See
docs/relevance.md.
"""

from linkaudit.analysis.topics.model import (
    DocumentTerms,
    TopicModel,
    build_topic_model,
    clusters,
    page_topics,
    similarity,
    top_terms,
    with_clusters,
    with_profile,
)
from linkaudit.analysis.topics.relevance import link_relevance, off_topic_mask
from linkaudit.analysis.topics.thresholds import (
    equal_error_threshold,
    neighbourhood,
    otsu_threshold,
)
from linkaudit.analysis.topics.vectors import blend

__all__ = [
    "DocumentTerms",
    "TopicModel",
    "blend",
    "build_topic_model",
    "clusters",
    "equal_error_threshold",
    "link_relevance",
    "neighbourhood",
    "off_topic_mask",
    "otsu_threshold",
    "page_topics",
    "similarity",
    "top_terms",
    "with_clusters",
    "with_profile",
]
