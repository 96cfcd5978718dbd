"""Teleport.SuspiciousCommands: nc or wget run with arguments in a session."""

SUSPICIOUS_COMMANDS = frozenset({"nc", "wget"})

SLUICE_DISPATCH = {"event": ["session.command"], "program": sorted(SUSPICIOUS_COMMANDS)}


def rule(event):
    if event.get("event") != "session.command" or not event.get("argv"):
        return False  # without arguments these only print their usage
    return event.get("program") in SUSPICIOUS_COMMANDS


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    program = event.get("program", "<UNKNOWN_PROGRAM>")
    cluster = event.get("cluster_name", "<UNKNOWN_CLUSTER>")
    return f"User [{user}] has executed the command [{program}] on [{cluster}]"


def alert_context(event):
    return {
        "program": event.get("program"),
        "argv": event.get("argv"),
        "login": event.get("login"),
        "sid": event.get("sid"),
    }
