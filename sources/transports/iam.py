"""Least-privilege IAM documents, and their CloudFormation (YAML) and Terraform (HCL) renderings."""

from __future__ import annotations

import json
from typing import Any

import yaml

from sources.validators import parse_queue_url

SQS_READ_ACTIONS = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
]


def queue_arn(queue_url: str, region: str, partition: str = "aws") -> str:
    url_region, account, name = parse_queue_url(queue_url)
    return f"arn:{partition}:sqs:{url_region or region}:{account}:{name}"


def queue_account(queue_url: str) -> str:
    return parse_queue_url(queue_url)[1]


def statement(sid: str, actions: list[str], resources: list[str], **extra: Any) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def policy(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


def cfn_identifier(text: str) -> str:
    return "".join(part.capitalize() for part in text.replace("_", "-").split("-") if part)


def render_cloudformation(
    *,
    description: str,
    role_name: str,
    default_principal: str,
    role_policy: dict,
    extra_resources: dict[str, Any] | None = None,
    notes: list[str] = (),  # type: ignore[assignment]
) -> str:
    """A CloudFormation template in long-form YAML (no !Sub/!GetAtt: any YAML parser reads it)."""
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Parameters": {
            "TrustedPrincipalArn": {
                "Type": "String",
                "Default": default_principal,
                "Description": "The AWS principal the Sluice workers run as (it assumes the role).",
            }
        },
        "Resources": {
            "SluiceReaderRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role_name,
                    "AssumeRolePolicyDocument": policy(
                        [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": {"Ref": "TrustedPrincipalArn"}},
                                "Action": "sts:AssumeRole",
                            }
                        ]
                    ),
                    "Policies": [{"PolicyName": "sluice-read", "PolicyDocument": role_policy}],
                },
            },
            **(extra_resources or {}),
        },
        "Outputs": {
            "RoleArn": {
                "Description": "Paste this into the source's 'IAM role ARN to assume' field.",
                "Value": {"Fn::GetAtt": ["SluiceReaderRole", "Arn"]},
            }
        },
    }
    header = "".join(f"# {line}\n" for line in notes)
    return header + yaml.safe_dump(template, sort_keys=False, width=100)


def hcl_string(value: str) -> str:
    return json.dumps(value)


def hcl_policy(doc: dict, indent: str = "  ") -> str:
    """A policy as Terraform `jsonencode(...)`: HCL object syntax is JSON-compatible."""
    body = json.dumps(doc, indent=2).replace("\n", "\n" + indent)
    return f"jsonencode({body})"


def render_terraform(
    *,
    source_name: str,
    role_name: str,
    default_principal: str,
    region: str,
    role_policy: dict,
    extra_blocks: list[str] = (),  # type: ignore[assignment]
) -> str:
    blocks = [
        f"# Sluice: read-only access for the log source {hcl_string(source_name)}.\n"
        "# terraform init && terraform apply, then paste the role_arn output into the source.",
        f'provider "aws" {{\n  region = {hcl_string(region)}\n}}',
        'variable "trusted_principal_arn" {\n'
        '  description = "The AWS principal the Sluice workers run as (it assumes the role)."\n'
        "  type        = string\n"
        f"  default     = {hcl_string(default_principal)}\n}}",
        'resource "aws_iam_role" "sluice_reader" {\n'
        f"  name = {hcl_string(role_name)}\n"
        "  assume_role_policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Effect    = "Allow"\n'
        "      Principal = { AWS = var.trusted_principal_arn }\n"
        '      Action    = "sts:AssumeRole"\n'
        "    }]\n"
        "  })\n}",
        'resource "aws_iam_role_policy" "sluice_read" {\n'
        '  name   = "sluice-read"\n'
        "  role   = aws_iam_role.sluice_reader.id\n"
        f"  policy = {hcl_policy(role_policy)}\n}}",
        *extra_blocks,
        'output "role_arn" {\n  value = aws_iam_role.sluice_reader.arn\n}',
    ]
    return "\n\n".join(blocks) + "\n"
