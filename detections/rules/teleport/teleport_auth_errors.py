"""Teleport.AuthErrors: an SSH authentication error (10 in 15 minutes make an alert)."""

SLUICE_DISPATCH = {"event": ["auth"]}


def rule(event):
    return event.get("event") == "auth" and bool(event.get("error"))


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    cluster = event.get("cluster_name", "<UNKNOWN_CLUSTER>")
    return (
        "Teleport Alert: High volume of SSH errors detected from user "
        f"[{user}] on cluster [{cluster}]"
    )
