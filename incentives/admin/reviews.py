"""The performance interviews: conducted on their pages through the review services, shown here."""

from __future__ import annotations

from django.contrib import admin

from incentives.admin.common import ReadOnly
from incentives.models import ActionItem, AgreedTarget, Review, RootCause, SharedSkill, SkillMark


class ReadOnlyInline(ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False


class RootCauseInline(ReadOnlyInline):
    model = RootCause


class ActionItemInline(ReadOnlyInline):
    model = ActionItem


class SkillMarkInline(ReadOnlyInline):
    model = SkillMark


class AgreedTargetInline(ReadOnlyInline):
    model = AgreedTarget


class SharedSkillInline(ReadOnlyInline):
    model = SharedSkill


@admin.register(Review)
class ReviewAdmin(ReadOnly, admin.ModelAdmin):
    """The interviews, read-only: they are conducted on their pages (Reviews), where HR also reopens a
    completed one. The history of each is in the audit trail."""

    list_display = [
        "period",
        "agent",
        "team",
        "stage",
        "flags",
        "score_change",
        "forward_acknowledged_at",
    ]
    list_filter = ["period", "stage", "team"]
    search_fields = ["agent__employee_id", "agent__name"]
    inlines = [
        RootCauseInline,
        ActionItemInline,
        SkillMarkInline,
        AgreedTargetInline,
        SharedSkillInline,
    ]


@admin.register(SharedSkill)
class SharedSkillAdmin(ReadOnly, admin.ModelAdmin):
    """The internal expert list: skills worth sharing, agreed in the forward stage of a review
    (``shared_skill_add``, which checks the stage and the person). Read-only here, like the review
    it belongs to."""

    list_display = ["skill", "agent", "note", "review"]
    search_fields = ["skill", "agent__name", "agent__employee_id"]
