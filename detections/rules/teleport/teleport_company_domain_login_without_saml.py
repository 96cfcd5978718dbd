"""Teleport.CompanyDomainLoginWithoutSAML: a user of the cluster's own domain logged in
successfully by another method than SAML."""

from teleport_helpers import cluster_in_domain, user_domain

SLUICE_DISPATCH = {"event": ["user.login"]}


def rule(event):
    if event.get("event") != "user.login" or event.get("success") is not True:
        return False
    if event.get("method") == "saml":
        return False
    return cluster_in_domain(event.get("cluster_name"), user_domain(event.get("user")))


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    cluster = event.get("cluster_name", "<UNNAMED_CLUSTER>")
    return f"User [{user}] logged into [{cluster}] without using SAML"


def alert_context(event):
    return {"user": event.get("user"), "method": event.get("method")}
