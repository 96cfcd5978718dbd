"""Teleport.SAMLLoginWithoutCompanyDomain: a successful SAML login by a user whose domain is
not the cluster's (the identity provider vouched for an outsider)."""

from teleport_helpers import cluster_in_domain, user_domain

SLUICE_DISPATCH = {"event": ["user.login"]}


def rule(event):
    if event.get("event") != "user.login" or event.get("success") is not True:
        return False
    user = event.get("user")
    if event.get("method") != "saml" or not user:
        return False
    return not cluster_in_domain(event.get("cluster_name"), user_domain(user))


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    cluster = event.get("cluster_name", "<UNNAMED_CLUSTER>")
    return f"User [{user}] logged into [{cluster}] using SAML from a different domain"


def alert_context(event):
    return {"user": event.get("user"), "attributes": event.get("attributes")}
