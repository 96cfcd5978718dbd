"""Who may do what with sources: staff and the "Source admins" group manage; others only view."""

from functools import wraps

from django.core.exceptions import PermissionDenied

from audit.roles import SOURCE_ADMINS_GROUP
from audit.roles import can_manage as can_manage_sources

__all__ = ["SOURCE_ADMINS_GROUP", "can_manage_sources", "source_admin_required"]


def source_admin_required(view):
    """Views that create, change or delete sources: 403 for signed-in viewers."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_manage_sources(request.user):
            raise PermissionDenied("Only source admins can create, change or delete log sources.")
        return view(request, *args, **kwargs)

    return wrapper
