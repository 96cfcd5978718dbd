from datetime import timedelta
from functools import lru_cache

from django import template
from django.contrib.staticfiles import finders
from django.templatetags.static import static

from sources import health

register = template.Library()

LIVE_WIDGETS = {"text", "select", "number", "textarea", "url"}
GROUP_WIDGETS = {"radioselect", "checkboxselectmultiple"}


@register.filter
def live_validate(field) -> bool:
    """Fields validated as the user leaves them (groups of checkboxes are not: focus would jump)."""
    return field.widget_type in LIVE_WIDGETS


@register.filter
def is_group(field) -> bool:
    return field.widget_type in GROUP_WIDGETS


@register.filter
def check_state(check: dict) -> str:
    ok = check.get("ok")
    return "skip" if ok is None else ("ok" if ok else "fail")


@register.filter
def logtype_icon(log_type) -> str:
    """The tile icon: static/img/logtypes/<icon>.svg when it exists, else a generic one."""
    return _icon_url(log_type.icon)


@lru_cache(maxsize=64)
def _icon_url(icon: str) -> str:
    path = f"img/logtypes/{icon}.svg"
    return static(path if finders.find(path) else "img/logtypes/generic.svg")


@register.filter
def duration(span: timedelta | None) -> str:
    """ "45 s", "6 minutes", "3 hours": a timedelta as a person says it."""
    return health.duration(span) if span is not None else ""


@register.filter
def seconds_duration(seconds: float | None) -> str:
    return health.duration(timedelta(seconds=seconds)) if seconds is not None else ""
