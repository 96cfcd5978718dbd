"""The console's roles: staff and the "Source admins" group manage sources and log types; every
other signed-in user (an analyst) reads."""

SOURCE_ADMINS_GROUP = "Source admins"


def can_manage(user) -> bool:
    """Whether `user` may create, change or delete sources and custom log types."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_staff or user.groups.filter(name=SOURCE_ADMINS_GROUP).exists()
