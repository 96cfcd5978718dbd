"""Teleport.NetworkScanning: a network scanner ran in a session (enhanced session recording).

Any event of such a program counts (a scan seen only as session.network events from a cron
job too), except a session.command without arguments (`nmap` alone prints its help).
It dispatches on `program`, the field that decides, rather than on `event`.
"""

SCAN_COMMANDS = frozenset({"arp", "arp-scan", "fping", "nmap"})

SLUICE_DISPATCH = {"program": sorted(SCAN_COMMANDS)}


def rule(event):
    if event.get("event") == "session.command" and not event.get("argv"):
        return False
    return event.get("program") in SCAN_COMMANDS


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    program = event.get("program", "<UNKNOWN_PROGRAM>")
    cluster = event.get("cluster_name", "<UNKNOWN_CLUSTER>")
    return (
        f"Teleport Alert: Network scan detected from user [{user}] "
        f"using [{program}] on cluster [{cluster}]"
    )


def alert_context(event):
    return {
        "program": event.get("program"),
        "argv": event.get("argv"),
        "dst_addr": event.get("dst_addr"),
        "sid": event.get("sid"),
    }
