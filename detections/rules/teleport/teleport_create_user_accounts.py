"""Teleport.CreateUserAccounts: a command that creates, changes or deletes a system user
(enhanced session recording's session.command events)."""

import re
from fnmatch import translate

USER_CREATE_PATTERNS = (
    "chage",  # password expiry of a user
    "passwd",  # a user's password
    "user*",  # useradd, usermod, userdel
)
USER_CREATE_PROGRAM = re.compile("|".join(translate(p) for p in USER_CREATE_PATTERNS))

SLUICE_DISPATCH = {"event": ["session.command"], "program": USER_CREATE_PATTERNS}


def rule(event):
    if event.get("event") != "session.command":
        return False
    return USER_CREATE_PROGRAM.match(event.get("program") or "") is not None


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    cluster = event.get("cluster_name", "<UNKNOWN_CLUSTER>")
    return f"User [{user}] has manually modified system users on [{cluster}]"


def alert_context(event):
    return {
        "program": event.get("program"),
        "argv": event.get("argv"),
        "login": event.get("login"),
        "server_id": event.get("server_id"),
        "sid": event.get("sid"),
    }
