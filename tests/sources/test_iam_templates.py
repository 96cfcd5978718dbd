"""The generated CloudFormation and Terraform grant exactly what the source needs to be read."""

import re

import yaml

from sources import transports
from tests.sources.test_verification import s3_config

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/sluice-notifications"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:sluice-notifications"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def template(key: str, kind: str, name: str, config: dict) -> str:
    transport = transports.get(key)
    return getattr(transport, kind)(name, transport.settings(config))


def statements(doc: dict) -> dict[str, dict]:
    role = doc["Resources"]["SluiceReaderRole"]["Properties"]
    return {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}


def test_s3_cloudformation_is_least_privilege_on_the_bucket_prefixes_key_and_queue():
    config = s3_config(kms_key_arn=KEY, discovery="notifications", queue_url=QUEUE)
    doc = yaml.safe_load(template("s3", "cloudformation", "teleport prod", config))
    assert doc["AWSTemplateFormatVersion"] == "2010-09-09"
    role = doc["Resources"]["SluiceReaderRole"]
    assert role["Type"] == "AWS::IAM::Role"
    assert role["Properties"]["RoleName"] == "sluice-teleport-prod-reader"
    granted = statements(doc)
    assert granted["BucketLocation"]["Resource"] == ["arn:aws:s3:::sluice-test-logs"]
    assert granted["ListLogPrefixes"]["Action"] == ["s3:ListBucket"]
    assert granted["ListLogPrefixes"]["Condition"]["StringLike"]["s3:prefix"] == [
        "teleport/",
        "teleport/*",
    ]
    assert granted["ReadLogObjects"] == {
        "Sid": "ReadLogObjects",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::sluice-test-logs/teleport/*"],
    }
    assert granted["DecryptLogObjects"]["Action"] == ["kms:Decrypt"]
    assert granted["DecryptLogObjects"]["Resource"] == [KEY]
    assert granted["ReadNotifications"]["Resource"] == [QUEUE_ARN]
    assert set(granted["ReadNotifications"]["Action"]) == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    }
    every_action = [a for s in granted.values() for a in s["Action"]]
    assert not any(
        "*" in action or action.startswith(("s3:Put", "s3:Delete")) for action in every_action
    )
    queue_policy = doc["Resources"]["NotificationQueuePolicy"]["Properties"]
    assert queue_policy["Queues"] == [QUEUE]
    send = queue_policy["PolicyDocument"]["Statement"][0]
    assert send["Principal"] == {"Service": "s3.amazonaws.com"}
    assert send["Condition"]["ArnEquals"]["aws:SourceArn"] == "arn:aws:s3:::sluice-test-logs"
    assert doc["Outputs"]["RoleArn"]["Value"] == {"Fn::GetAtt": ["SluiceReaderRole", "Arn"]}


def test_whole_bucket_listing_without_key_or_queue_grants_no_more():
    config = s3_config(prefixes=[{"prefix": "", "log_types": [], "exclude": []}])
    doc = yaml.safe_load(template("s3", "cloudformation", "x", config))
    granted = statements(doc)
    assert set(granted) == {"BucketLocation", "ListLogPrefixes", "ReadLogObjects"}
    assert "Condition" not in granted["ListLogPrefixes"]
    assert granted["ReadLogObjects"]["Resource"] == ["arn:aws:s3:::sluice-test-logs/*"]
    assert "NotificationQueuePolicy" not in doc["Resources"]


def test_s3_terraform_declares_the_role_policy_and_bucket_notification():
    config = s3_config(
        kms_key_arn=KEY,
        discovery="notifications",
        queue_url=QUEUE,
        role_arn="arn:aws:iam::123456789012:role/teleport-reader",
        prefixes=[
            {"prefix": "teleport/", "log_types": [], "exclude": []},
            {"prefix": "audit/", "log_types": [], "exclude": []},
        ],
    )
    hcl = template("s3", "terraform", "teleport", config)
    blocks = re.findall(
        r'^(resource|variable|output|provider) "([^"]+)"(?: "([^"]+)")? \{', hcl, re.M
    )
    assert ("resource", "aws_iam_role", "sluice_reader") in blocks
    assert ("resource", "aws_iam_role_policy", "sluice_read") in blocks
    assert ("resource", "aws_sqs_queue_policy", "bucket_notifications") in blocks
    assert ("resource", "aws_s3_bucket_notification", "sluice") in blocks
    assert ("output", "role_arn", "") in blocks
    assert re.search(r'name = "teleport-reader"', hcl)
    assert '"arn:aws:s3:::sluice-test-logs/teleport/*"' in hcl
    assert '"arn:aws:s3:::sluice-test-logs/audit/*"' in hcl
    assert f'"{KEY}"' in hcl
    assert re.findall(r'filter_prefix = "([^"]+)"', hcl) == ["teleport/", "audit/"]
    assert hcl.count(f'queue_arn     = "{QUEUE_ARN}"') == 2
    assert hcl.count("{") == hcl.count("}")
    assert hcl.count("(") == hcl.count(")")


def test_sqs_templates_grant_the_queue_actions_and_the_senders_policy():
    config = {
        "queue_url": QUEUE,
        "region": "us-east-1",
        "role_arn": "",
        "allowed_principal_arns": ["arn:aws:iam::210987654321:root"],
        "allowed_source_arns": ["arn:aws:sns:us-east-1:210987654321:teleport-events"],
    }
    doc = yaml.safe_load(template("sqs", "cloudformation", "teleport-sqs", config))
    granted = statements(doc)
    assert granted["ReceiveLogMessages"]["Resource"] == [QUEUE_ARN]
    senders = doc["Resources"]["SendersQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert senders[0]["Principal"] == {"AWS": ["arn:aws:iam::210987654321:root"]}
    assert senders[1]["Condition"]["ArnLike"]["aws:SourceArn"] == [
        "arn:aws:sns:us-east-1:210987654321:teleport-events"
    ]
    hcl = template("sqs", "terraform", "teleport-sqs", config)
    assert re.search(r'^resource "aws_sqs_queue_policy" "senders" \{', hcl, re.M)
    assert '"sqs:ChangeMessageVisibility"' in hcl
    assert f'"{QUEUE_ARN}"' in hcl
