"""The gallery in Django's admin, for staff: reports on comments (with their reason, the
comment, its work and who reported it), and comments themselves, removed or restored.

Every staff account moderates comments: no model permission is needed to see these two
lists and act on them (a superuser may also delete rows for good).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from gallery import comments
from gallery.models import Comment, CommentReport


class StaffModerates(admin.ModelAdmin):
    """Seen and changed by every active staff account; rows are made on the site only."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


def work_link(comment: Comment) -> str:
    work = comment.creation
    return format_html('<a href="{}">{}</a>', reverse("frontend:work", args=[work.public_id]),
                       work.title or work.public_id)


@admin.register(CommentReport)
class CommentReportAdmin(StaffModerates):
    list_display = ["created", "reason_shown", "comment_shown", "work", "reporter", "author",
                    "state"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["comment__creation", "comment__author", "reporter"]
    search_fields = ["reason", "comment__text", "reporter__username", "comment__author__username"]
    readonly_fields = ["comment", "reporter", "reason", "created", "resolved_at", "resolved_by"]
    fields = readonly_fields
    actions = ["remove_comments", "dismiss"]

    @admin.display(description=_("reason"))
    def reason_shown(self, report: CommentReport) -> str:
        return Truncator(report.reason).chars(120)

    @admin.display(description=_("comment"))
    def comment_shown(self, report: CommentReport) -> str:
        return Truncator(report.comment.text).chars(120)

    @admin.display(description=_("work"))
    def work(self, report: CommentReport) -> str:
        return work_link(report.comment)

    @admin.display(description=_("comment's author"))
    def author(self, report: CommentReport) -> str:
        return report.comment.author.username

    @admin.display(description=_("state"))
    def state(self, report: CommentReport) -> str:
        if report.comment.staff_removed_at is not None:
            return _("comment removed")
        return _("dealt with") if report.resolved_at is not None else _("open")

    @admin.action(description=_("Remove the reported comments"))
    def remove_comments(self, request, reports) -> None:
        removed = comments.do_remove(request.user, list(reports.values_list("comment_id", flat=True)))
        self.message_user(request, ngettext("%d comment removed.", "%d comments removed.", removed)
                          % removed, messages.SUCCESS)

    @admin.action(description=_("Dismiss: keep the comments"))
    def dismiss(self, request, reports) -> None:
        dealt = comments.do_resolve(request.user, list(reports.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%d report dismissed.", "%d reports dismissed.", dealt)
                          % dealt, messages.SUCCESS)


@admin.register(Comment)
class CommentAdmin(StaffModerates):
    list_display = ["created", "author", "text_shown", "work", "hidden", "removed"]
    list_filter = [("hidden_at", admin.EmptyFieldListFilter),
                   ("staff_removed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["creation", "author"]
    search_fields = ["text", "author__username", "creation__public_id"]
    readonly_fields = ["public_id", "creation", "author", "text", "created", "edited_at",
                       "hidden_at", "staff_removed_at", "staff_removed_by"]
    fields = readonly_fields
    actions = ["remove", "restore"]

    @admin.display(description=_("text"))
    def text_shown(self, comment: Comment) -> str:
        return Truncator(comment.text).chars(120)

    @admin.display(description=_("work"))
    def work(self, comment: Comment) -> str:
        return work_link(comment)

    @admin.display(description=_("hidden by the work's owner"), boolean=True)
    def hidden(self, comment: Comment) -> bool:
        return comment.hidden_at is not None

    @admin.display(description=_("removed by staff"), boolean=True)
    def removed(self, comment: Comment) -> bool:
        return comment.staff_removed_at is not None

    @admin.action(description=_("Remove: nobody sees them"))
    def remove(self, request, chosen) -> None:
        removed = comments.do_remove(request.user, list(chosen.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%d comment removed.", "%d comments removed.", removed)
                          % removed, messages.SUCCESS)

    @admin.action(description=_("Restore: shown again"))
    def restore(self, request, chosen) -> None:
        restored = comments.do_restore(list(chosen.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%d comment restored.", "%d comments restored.", restored)
                          % restored, messages.SUCCESS)
