"""Validators for AWS names and ARNs; each message says what is wrong and what a valid value is."""

import ipaddress
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

PARTITIONS = r"aws|aws-cn|aws-us-gov"
ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
BUCKET_CHARS_RE = re.compile(r"^[a-z0-9.-]+$")
ROLE_ARN_RE = re.compile(
    rf"^arn:(?:{PARTITIONS}):iam::(\d{{12}}):role/[\w+=,.@/-]{{1,512}}$", re.ASCII
)
KMS_KEY_ARN_RE = re.compile(
    rf"^arn:(?:{PARTITIONS}):kms:([a-z]{{2}}(?:-[a-z]+)+-\d):(\d{{12}}):key/"
    r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$",
    re.ASCII,
)
ANY_ARN_RE = re.compile(
    rf"^arn:(?:{PARTITIONS}):[a-z0-9-]+:[a-z0-9-]*:(\d{{12}})?:[!-~]+$", re.ASCII
)
# The AWS console shows account ids as 1234-5678-9012: cleaned to 123456789012.
CONSOLE_ACCOUNT_RE = re.compile(r"[0-9]{4}([- ]?)[0-9]{4}\1[0-9]{4}", re.ASCII)
QUEUE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}(\.fifo)?$", re.ASCII)
AWS_QUEUE_URL_RE = re.compile(
    r"^https://sqs\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?/([^/]+)/([^/]+)$",
    re.ASCII,
)


def clean_account_id(value: str) -> str:
    """An account id as typed, with the AWS console's grouping (1234-5678-9012) removed."""
    value = value.strip()
    if CONSOLE_ACCOUNT_RE.fullmatch(value):
        return value.replace("-", "").replace(" ", "")
    return value


def validate_account_id(value: str) -> None:
    if not ACCOUNT_RE.fullmatch(value):
        digits = sum(ch.isdigit() for ch in value)
        got = f"{len(value)} characters" if digits != len(value) else f"{len(value)} digits"
        raise ValidationError(
            f"An AWS account ID is exactly 12 digits, like 123456789012 (got {got}).",
            code="account_id",
        )


def validate_bucket_name(value: str) -> None:
    """S3 general purpose bucket naming rules (docs: 'Bucket naming rules')."""
    problems = []
    if not 3 <= len(value) <= 63:
        problems.append(f"must be 3 to 63 characters long (got {len(value)})")
    if not BUCKET_CHARS_RE.fullmatch(value):
        problems.append("may contain only lowercase letters, digits, dots (.) and hyphens (-)")
    if value and not (value[0].isalnum() and value[-1].isalnum()):
        problems.append("must begin and end with a letter or digit")
    if ".." in value:
        problems.append("must not contain two adjacent dots")
    try:
        ipaddress.IPv4Address(value)
        problems.append("must not be formatted as an IP address")
    except ValueError:
        pass
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if value.startswith(prefix):
            problems.append(f"must not start with '{prefix}'")
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if value.endswith(suffix):
            problems.append(f"must not end with '{suffix}'")
    if problems:
        raise ValidationError(
            f"'{value}' is not a valid S3 bucket name: it " + "; ".join(problems) + ".",
            code="bucket",
        )


def validate_role_arn(value: str) -> None:
    if not ROLE_ARN_RE.fullmatch(value):
        raise ValidationError(
            "Enter an IAM role ARN like arn:aws:iam::123456789012:role/sluice-reader.",
            code="role_arn",
        )


def validate_kms_key_arn(value: str) -> None:
    if not KMS_KEY_ARN_RE.fullmatch(value):
        raise ValidationError(
            "Enter a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/"
            "1234abcd-12ab-34cd-56ef-1234567890ab (an alias ARN cannot be used in a policy).",
            code="kms_key_arn",
        )


def validate_principal_or_source_arn(value: str) -> None:
    if not ANY_ARN_RE.fullmatch(value) and not ACCOUNT_RE.fullmatch(value):
        raise ValidationError(
            f"'{value}' is not an ARN (arn:aws:service:region:account:resource) "
            "or a 12-digit account ID.",
            code="arn",
        )


def validate_queue_name(value: str) -> None:
    if not QUEUE_NAME_RE.fullmatch(value):
        raise ValidationError(
            "A queue name has 1 to 80 letters, digits, hyphens or underscores "
            "(and ends in .fifo for a FIFO queue).",
            code="queue_name",
        )


def parse_queue_url(url: str) -> tuple[str | None, str, str]:
    """(region or None, account id, queue name) of an SQS queue URL, or ValidationError.

    Accepts the AWS shape https://sqs.REGION.amazonaws.com/ACCOUNT/NAME and, when the console is
    pointed at a local endpoint (settings.AWS_ENDPOINT_URL), URLs on that endpoint.
    """
    if not url.isascii():
        raise ValidationError(
            "A queue URL has only ASCII letters, digits and punctuation.", code="queue_url"
        )
    match = AWS_QUEUE_URL_RE.fullmatch(url)
    if match:
        region, account, name = match.groups()
    else:
        endpoint = getattr(settings, "AWS_ENDPOINT_URL", None)
        parts = urlsplit(url)
        path = parts.path.strip("/").split("/")
        local = bool(endpoint) and _same_host(url, endpoint)
        if not local or len(path) != 2:
            raise ValidationError(
                "Enter an SQS queue URL like "
                "https://sqs.us-east-1.amazonaws.com/123456789012/sluice-notifications.",
                code="queue_url",
            )
        region, (account, name) = None, path
    if not ACCOUNT_RE.fullmatch(account):
        raise ValidationError(
            f"The queue URL's account part '{account}' is not a 12-digit account ID.",
            code="queue_url",
        )
    validate_queue_name(name)
    return region, account, name


def queue_url_for(region: str, account: str, name: str) -> str:
    """The URL of queue `name` in `account`: on the configured endpoint when there is one."""
    endpoint = getattr(settings, "AWS_ENDPOINT_URL", None)
    if endpoint:
        return f"{endpoint.rstrip('/')}/{account}/{name}"
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def _same_host(url: str, endpoint: str) -> bool:
    a, b = urlsplit(url), urlsplit(endpoint)
    local_names = {"127.0.0.1", "localhost"}
    same_host = a.hostname == b.hostname or {a.hostname, b.hostname} <= local_names
    return a.scheme in {"http", "https"} and same_host and a.port == b.port


def validate_prefix(value: str) -> None:
    if value.startswith("/"):
        raise ValidationError(
            "S3 keys do not start with '/': write 'teleport/' rather than '/teleport/'.",
            code="prefix",
        )
    if any(ord(ch) < 32 for ch in value):
        raise ValidationError("A prefix cannot contain control characters.", code="prefix")
    if len(value.encode()) > 1024:
        raise ValidationError("A prefix is at most 1024 bytes long.", code="prefix")


def validate_exclusion(value: str) -> None:
    if not value.strip():
        raise ValidationError("An exclusion filter cannot be empty.", code="exclude")
    if any(ch in value for ch in "?[]"):
        raise ValidationError(
            f"'{value}': exclusion filters support only the * wildcard.", code="exclude"
        )
