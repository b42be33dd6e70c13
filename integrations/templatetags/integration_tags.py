from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.timesince import timesince

register = template.Library()


@register.simple_tag
def relative_time(value):
    """Render "3 minutes ago" with the exact time, in the viewer's time zone, on hover."""
    if value is None:
        return "never"
    local = timezone.localtime(value)
    exact = date_format(local, "j M Y, H:i:s T")
    delta = timezone.now() - value
    relative = "just now" if delta.total_seconds() < 60 else f"{timesince(value).split(',')[0]} ago"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', value.isoformat(), exact, relative
    )


@register.simple_tag
def run_counts(run):
    """Summarise a run's counts as "candidates +3 ~2 −1" per entity with changes."""
    parts = []
    for entity, counts in sorted((run.counts or {}).items()):
        created, updated, hidden = (
            counts.get("created", 0),
            counts.get("updated", 0),
            counts.get("hidden", 0),
        )
        if created or updated or hidden:
            parts.append(
                f"{entity.replace('_', ' ')}: {created} new, {updated} updated, {hidden} hidden"
            )
    return "; ".join(parts) or "No changes"
