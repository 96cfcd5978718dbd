"""Teleport.RootLogin: an SSH session started as the OS user root."""

SLUICE_DISPATCH = {"event": ["session.start"]}


def rule(event):
    return event.get("event") == "session.start" and event.get("login") == "root"


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    host = event.get("server_hostname", "<UNKNOWN_HOSTNAME>")
    cluster = event.get("cluster_name", "<UNKNOWN_CLUSTER>")
    return f"User [{user}] logged into [{host}] as root on [{cluster}]"


def alert_context(event):
    return {
        "user": event.get("user"),
        "server_hostname": event.get("server_hostname"),
        "addr_remote": event.get("addr_remote"),
        "sid": event.get("sid"),
    }
