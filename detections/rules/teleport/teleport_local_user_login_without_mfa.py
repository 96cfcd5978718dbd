"""Teleport.LocalUserLoginWithoutMFA: a successful local (password) login without an MFA
device. Upstream compared `success` with the string "true" and so never fired on Teleport's
boolean; this version reads the boolean."""

SLUICE_DISPATCH = {"event": ["user.login"]}

SENSITIVE_LOCAL_USERS = frozenset({"breakglass"})


def rule(event):
    return (
        event.get("event") == "user.login"
        and _succeeded(event.get("success"))
        and event.get("method") == "local"
        and not event.get("mfa_device")
    )


def _succeeded(success):
    # Teleport's boolean; the text "true" too, for a schema that types `success` as a string
    return success is True or success == "true"


def severity(event):
    return "HIGH" if event.get("user") in SENSITIVE_LOCAL_USERS else "MEDIUM"


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    cluster = event.get("cluster_name", "<UNNAMED_CLUSTER>")
    return f"User [{user}] logged into [{cluster}] locally without using MFA"


def alert_context(event):
    return {"user": event.get("user"), "addr_remote": event.get("addr_remote")}
