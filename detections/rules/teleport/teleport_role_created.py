"""Teleport.RoleCreated: a role was created or changed (Teleport writes role.created for both)."""

SLUICE_DISPATCH = {"event": ["role.created"]}


def rule(event):
    return event.get("event") == "role.created"


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    name = event.get("name", "<UNKNOWN_NAME>")
    cluster = event.get("cluster_name", "<UNKNOWN_CLUSTER>")
    return f"User [{user}] created Role [{name}] on [{cluster}]"
