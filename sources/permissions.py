"""Who may do what with sources: staff and the "Source admins" group manage; others only view."""

from functools import wraps

from django.core.exceptions import PermissionDenied

SOURCE_ADMINS_GROUP = "Source admins"


def can_manage_sources(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_staff or user.groups.filter(name=SOURCE_ADMINS_GROUP).exists()


def source_admin_required(view):
    """Views that create, change or delete sources: 403 for signed-in viewers."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_manage_sources(request.user):
            raise PermissionDenied("Only source admins can create, change or delete log sources.")
        return view(request, *args, **kwargs)

    return wrapper
