"""Indicator scanners, with Panther's rules."""

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.indicators import ip_version, scan_values


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("net_addr", "127.0.0.1:3022", {"p_any_ip_addresses": ["127.0.0.1"]}),
        ("net_addr", "[::]:3022", {"p_any_ip_addresses": ["::"]}),
        ("net_addr", "[2001:db8::1]:22", {"p_any_ip_addresses": ["2001:db8::1"]}),
        ("net_addr", "2001:db8::1", {"p_any_ip_addresses": ["2001:db8::1"]}),
        ("net_addr", "node-1.example.com:3022", {"p_any_domain_names": ["node-1.example.com"]}),
        ("net_addr", "node-1", {"p_any_domain_names": ["node-1"]}),
        ("hostname", "10.0.0.1", {"p_any_ip_addresses": ["10.0.0.1"]}),
        (
            "hostname",
            "ip-10-0-0-1.ec2.internal",
            {"p_any_domain_names": ["ip-10-0-0-1.ec2.internal"]},
        ),
        ("url", "https://app.example.com:8443/x?y=1", {"p_any_domain_names": ["app.example.com"]}),
        ("url", "postgres://10.1.1.1:5432/db", {"p_any_ip_addresses": ["10.1.1.1"]}),
        ("url", "db.example.com:5432", {"p_any_domain_names": ["db.example.com"]}),
        ("url", "http://[::1]:80/", {"p_any_ip_addresses": ["::1"]}),
        ("ip", "192.0.2.7", {"p_any_ip_addresses": ["192.0.2.7"]}),
        ("ip", "not-an-ip", {}),
        ("ip", "999.1.1.1", {}),
        ("trace_id", "e527ab2a-d882", {"p_any_trace_ids": ["e527ab2a-d882"]}),
        ("username", "alice", {"p_any_usernames": ["alice"]}),
        ("email", "a@example.com", {"p_any_emails": ["a@example.com"]}),
        ("aws_account_id", "123456789012", {"p_any_aws_account_ids": ["123456789012"]}),
        ("aws_account_id", "12345678901", {}),
        ("aws_account_id", "1234567890123", {}),
        ("aws_account_id", "12345678901a", {}),
        (
            "aws_arn",
            "arn:aws:iam::123456789012:role/admin",
            {
                "p_any_aws_arns": ["arn:aws:iam::123456789012:role/admin"],
                "p_any_aws_account_ids": ["123456789012"],
            },
        ),
        (
            "aws_arn",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
            {
                "p_any_aws_arns": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"],
                "p_any_aws_account_ids": ["123456789012"],
                "p_any_aws_instance_ids": ["i-0abc"],
            },
        ),
        ("aws_arn", "arn:aws:s3:::bucket", {"p_any_aws_arns": ["arn:aws:s3:::bucket"]}),
        ("aws_arn", "not:an:arn", {}),
        ("sha256", "ab" * 32, {"p_any_sha256_hashes": ["ab" * 32]}),
        ("md5", "ab" * 16, {"p_any_md5_hashes": ["ab" * 16]}),
        ("sha1", "ab" * 20, {"p_any_sha1_hashes": ["ab" * 20]}),
        ("aws_tag", "env:prod", {"p_any_aws_tags": ["env:prod"]}),
        ("aws_instance_id", "i-0abc", {"p_any_aws_instance_ids": ["i-0abc"]}),
        ("domain", "example.com", {"p_any_domain_names": ["example.com"]}),
    ],
)
def test_scanner_rules(kind, value, expected):
    assert scan_values((kind,), [value]) == expected


@pytest.mark.parametrize("kind", ["net_addr", "hostname", "url", "ip", "trace_id", "username"])
@pytest.mark.parametrize("value", ["", "   "])
def test_empty_strings_add_nothing(kind, value):
    assert scan_values((kind,), [value]) == {}


def test_values_are_sorted_and_unique():
    found = scan_values(("net_addr",), ["10.0.0.2:1", "10.0.0.1:2", "10.0.0.2:3", "b.com", "a.com"])
    assert found == {
        "p_any_ip_addresses": ["10.0.0.1", "10.0.0.2"],
        "p_any_domain_names": ["a.com", "b.com"],
    }


def test_indicators_on_teleport_event(origin):
    from parsers import default_registry

    parser = default_registry().get("Gravitational.TeleportAudit").parser
    line = (
        b'{"event":"db.session.start","code":"TDB00I","time":"2024-03-01T00:00:00Z",'
        b'"db_uri":"pg.example.com:5432","db_user":"alice","aws_role_arn":'
        b'"arn:aws:iam::123456789012:role/r","account_id":"210987654321","sid":"s-1",'
        b'"src_addr":"10.0.0.9","dst_addr":"garbage","updated_by":"bob",'
        b'"addr.remote":"[2001:db8::5]:4000","server_hostname":"10.0.0.9"}'
    )
    result = parser.parse(line, origin, 1)
    assert result.indicators == {
        "p_any_domain_names": ["pg.example.com"],
        "p_any_usernames": ["alice", "bob"],
        "p_any_aws_arns": ["arn:aws:iam::123456789012:role/r"],
        "p_any_aws_account_ids": ["123456789012", "210987654321"],
        "p_any_trace_ids": ["s-1"],
        "p_any_ip_addresses": ["10.0.0.9", "2001:db8::5"],
    }


def _reference_ip_version(text: str) -> int:
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return 0


_ADDRESS_LIKE = st.one_of(
    st.text(alphabet="0123456789abcdefABCDEF:.%/ x\x00١", max_size=45),
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda a: f"{a}%eth0"),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
)


@settings(max_examples=3000, deadline=None)
@given(_ADDRESS_LIKE)
def test_ip_check_agrees_with_ipaddress(text):
    assert ip_version.__wrapped__(text) == _reference_ip_version(text)


@pytest.mark.parametrize(
    "text",
    ["01.2.3.4", "1.2.3.04", "256.1.1.1", " 1.2.3.4", "1.2.3", "١.2.3.4", "1::2::3", "fe80::1%"],
)
def test_what_ipaddress_refuses_is_no_ip(text):
    assert ip_version.__wrapped__(text) == _reference_ip_version(text) == 0
