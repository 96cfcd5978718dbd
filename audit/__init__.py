"""Audit entries and API tokens: the bottom Django app, importing only Django (and no other app).

`audit.trail.record()` writes the audit trail; `audit.signals` records users, groups, API tokens
and sign-ins; `audit.views` serves the account page and the audit log, whose links to other apps'
objects the project passes in (console/urls.py).
"""
