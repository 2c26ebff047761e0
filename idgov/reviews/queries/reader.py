"""ReviewReader: the one read model of access reviews, for pages, API and commands (REV-5)."""

from __future__ import annotations

from idgov.reviews.queries.inbox import PageReads
from idgov.reviews.queries.progress import CampaignReads


class ReviewReader(PageReads, CampaignReads):
    """Queries only, over the review tables; callers pass the session and the time, and
    decide who may see what. Overdue is `reviews.models.overdue` everywhere."""
