"""Teleport.CreateUserAccounts: a command that creates, changes or deletes a system user
(enhanced session recording's session.command events)."""

from fnmatch import fnmatchcase

SLUICE_DISPATCH = {"event": ["session.command"]}

USER_CREATE_PATTERNS = (
    "chage",  # password expiry of a user
    "passwd",  # a user's password
    "user*",  # useradd, usermod, userdel
)


def rule(event):
    if event.get("event") != "session.command":
        return False
    program = event.get("program") or ""
    return any(fnmatchcase(program, pattern) for pattern in USER_CREATE_PATTERNS)


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
