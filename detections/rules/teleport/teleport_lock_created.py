"""Teleport.LockCreated: a lock (a user, role or node locked out) was created.

Sluice's Teleport schema types `target` as a string, so a stored event holds the lock's target
as JSON text ('{"user":"bob"}'); the title reads the user out of it (or out of an object, as
Panther's events have it).
"""

import json

SLUICE_DISPATCH = {"event": ["lock.created"]}


def rule(event):
    return event.get("event") == "lock.created"


def locked_user(event):
    target = event.get("target")
    if isinstance(target, str):
        try:
            target = json.loads(target)
        except ValueError:
            return None
    return target.get("user") if hasattr(target, "get") else None


def title(event):
    by = event.get("updated_by", "<UNKNOWN_UPDATED_BY>")
    user = locked_user(event) or "<UNKNOWN_USER>"
    cluster = event.get("cluster_name", "<UNKNOWN_CLUSTER>")
    return f"A Teleport Lock was created by {by} to Lock out user {user} on [{cluster}]"


def alert_context(event):
    return {
        "updated_by": event.get("updated_by"),
        "target": event.get("target"),
        "locked_user": locked_user(event),
        "expires": event.get("expires"),
    }
