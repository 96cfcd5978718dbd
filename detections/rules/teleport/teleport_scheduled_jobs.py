"""Teleport.ScheduledJobs: crontab run to change scheduled jobs (10 in 15 minutes alert).

Only listing (`crontab -l`) is left out. Upstream also skipped `-r`, which removes every job
of the user: a change, so it counts here.
"""

SLUICE_DISPATCH = {"event": ["session.command"], "program": ["crontab"]}


def rule(event):
    if event.get("event") != "session.command" or event.get("program") != "crontab":
        return False
    return "-l" not in (event.get("argv") or ())


def title(event):
    user = event.get("user", "<UNKNOWN_USER>")
    cluster = event.get("cluster_name", "<UNKNOWN_CLUSTER>")
    return f"User [{user}] has modified scheduled jobs on [{cluster}]"


def alert_context(event):
    return {"argv": event.get("argv"), "login": event.get("login"), "sid": event.get("sid")}
