"""Audit entries for users, groups and API tokens, and for sign-ins, from model and auth signals.

Signals catch every path that changes these (the admin, the account page, management commands,
the shell) in one place. Sources are audited by sources/services.py instead, where each change
has a name (paused, verified…) and where workers' health updates are not changes to audit.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from audit import trail
from audit.models import ApiToken, AuditEntry

Action = AuditEntry.Action

# Fields whose changes are audited (last_login is a sign-in, recorded as such).
USER_FIELDS = (
    "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser", "password",
)  # fmt: skip
TRACKED: dict[type[models.Model], tuple[str, ...]] = {}
# Many-to-many fields audited as a list of names: {through model: field name}.
MEMBERSHIPS: dict[type[models.Model], str] = {}


def _value(instance: models.Model, field: str) -> Any:
    value = getattr(instance, field)
    return str(value) if isinstance(value, models.Model) else value


def _snapshot(instance: models.Model) -> dict[str, Any]:
    return {field: _value(instance, field) for field in TRACKED[type(instance)]}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        field: [before.get(field), after.get(field)]
        for field in sorted(after.keys() | before.keys())
        if before.get(field) != after.get(field)
    }


def remember_before(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance._state.adding or instance.pk is None:
        return
    fields = TRACKED[sender]
    if update_fields is not None and not set(update_fields) & set(fields):
        return
    previous = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = _snapshot(previous) if previous else None


def record_save(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    if created:
        changes = _diff({}, {k: v for k, v in _snapshot(instance).items() if v not in ("", None)})
        trail.record(Action.CREATED, instance, changes=changes)
        return
    before = instance.__dict__.pop("_audit_before", None)
    if before is None:
        return
    changes = _diff(before, _snapshot(instance))
    if set(changes) == {"password"} and _is_rehash(instance, update_fields):
        return
    if changes:
        action = Action.PASSWORD_CHANGED if set(changes) == {"password"} else Action.UPDATED
        trail.record(action, instance, changes=changes)


def _is_rehash(instance, update_fields) -> bool:
    """Django re-hashes a password on sign-in when the hasher's settings changed; the password
    itself did not. set_password() keeps the raw password in _password until the save is done."""
    return getattr(instance, "_password", None) is None and list(update_fields or []) == [
        "password"
    ]


def record_delete(sender, instance, **kwargs) -> None:
    changes = _diff(_snapshot(instance), {})
    kept = {field: pair for field, pair in changes.items() if pair[0] not in ("", None)}
    trail.record(Action.DELETED, instance, changes=kept)


def record_membership(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """Group membership (and permissions) as a before/after list of names on the changed object.

    From the other side (group.user_set.add(user)) each user gets its own entry.
    """
    field = MEMBERSHIPS[sender]
    if action == "pre_clear":
        if reverse:  # group.user_set.clear(): the users who were in it
            related = model._default_manager.filter(**{field: instance})
        else:
            related = getattr(instance, field).all()
        instance._audit_cleared = set(related.values_list("pk", flat=True))
        return
    if action == "post_clear":
        pk_set, action = instance.__dict__.pop("_audit_cleared", set()), "post_remove"
    if action not in {"post_add", "post_remove"} or not pk_set:
        return
    touched = set(model._default_manager.filter(pk__in=pk_set))
    for owner in touched if reverse else [instance]:
        after = set(getattr(owner, field).all())
        changed = {instance} if reverse else touched
        before = after - changed if action == "post_add" else after | changed
        trail.record(
            Action.UPDATED,
            owner,
            changes={field: [sorted(map(str, before)), sorted(map(str, after))]},
        )


def record_login(sender, request, user, **kwargs) -> None:
    trail.record(Action.LOGGED_IN, user, actor=user, request=request)


def record_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        trail.record(Action.LOGGED_OUT, user, actor=user, request=request)


def record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """Only the username tried is kept (Django already masked the password in `credentials`)."""
    users = get_user_model()
    username = str(credentials.get(users.USERNAME_FIELD) or credentials.get("username") or "")
    known = users._default_manager.filter(**{users.USERNAME_FIELD: username}).first()
    trail.record(
        Action.LOGIN_FAILED,
        object_type=AuditEntry.ObjectType.USER,
        object_id=str(known.pk) if known else "",
        object_label=username,
        request=request,
    )


def connect() -> None:
    users = get_user_model()
    user_fields = (users.USERNAME_FIELD, *USER_FIELDS)
    TRACKED.update(
        {
            users: tuple(f for f in user_fields if hasattr(users, f)),
            Group: ("name",),
            ApiToken: ("name", "user", "prefix"),
        }
    )
    MEMBERSHIPS.update(
        {
            users.groups.through: "groups",
            users.user_permissions.through: "user_permissions",
            Group.permissions.through: "permissions",
        }
    )
    for model in TRACKED:
        uid = f"audit-{model._meta.label_lower}"
        pre_save.connect(remember_before, sender=model, dispatch_uid=uid)
        post_save.connect(record_save, sender=model, dispatch_uid=uid)
        post_delete.connect(record_delete, sender=model, dispatch_uid=uid)
    for through in MEMBERSHIPS:
        m2m_changed.connect(record_membership, sender=through, dispatch_uid="audit-m2m")
    user_logged_in.connect(record_login, dispatch_uid="audit-login")
    user_logged_out.connect(record_logout, dispatch_uid="audit-logout")
    user_login_failed.connect(record_login_failed, dispatch_uid="audit-login-failed")
