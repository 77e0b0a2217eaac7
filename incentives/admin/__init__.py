"""The admin: HR's workshop for the organisation, the plans and the targets, one module per subject.

Every write it offers on something a service writes goes through that service — the one the API
calls — so the admin refuses what the API refuses, in the same words: deletes (``DeleteThroughService``),
plan versions, targets, adjustments, agents and months. What is written elsewhere (runs, reopenings,
interviews) is shown read-only. A refusal the forms did not foresee is shown on the page by
``calls.errors.DomainErrorMiddleware``, never as a server error.
"""

from incentives.admin import organisation, plans, reviews, runs, targets

__all__ = ["organisation", "plans", "reviews", "runs", "targets"]
