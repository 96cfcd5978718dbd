"""The AWS S3 transport (one package): settings and prefix rules (settings.py), the form
(forms.py), discovery by listing (listing.py) or event notifications (notifications.py), and the
transport itself with its checks and IAM templates (transport.py)."""

from sources.transports.s3.settings import PrefixRule, S3Settings, rule_for_key
from sources.transports.s3.transport import S3Transport

__all__ = ["PrefixRule", "S3Settings", "S3Transport", "rule_for_key"]
