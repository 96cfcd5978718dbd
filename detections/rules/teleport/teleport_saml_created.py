"""Teleport.SAMLCreated: a SAML connector was created or changed.

Upstream names its title function generate_title, which Panther never calls (so its alerts
had the display name as title); this one is title().
"""

SLUICE_DISPATCH = {"event": ["saml.created"]}


def rule(event):
    return event.get("event") == "saml.created"


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    cluster = event.get("cluster_name", "<UNKNOWN_CLUSTER>")
    return f"A SAML connector was created or updated by User [{user}] on [{cluster}]"


def alert_context(event):
    return {"user": event.get("user"), "connector": event.get("name")}
