"""Logs that are not JSON (csv, regex, fastmatch) and Panther's field transformations."""

import hashlib

import pytest

from parsers import (
    Classifier,
    Origin,
    ParsedEvent,
    ParseFailure,
    SchemaError,
    compile_schema,
    load_schema,
    parse_stream,
)

ORIGIN = Origin("test", "sample.log", "")

NGINX = r"""
schema: Custom.Nginx
parser:
  fastmatch:
    match:
      - 'NGINX_COMBINED'
    emptyValues: ["-"]
fields:
  - name: remote_addr
    required: true
    type: string
    indicators: [ip]
  - name: remote_user
    type: string
  - name: time_local
    required: true
    type: timestamp
    timeFormats: ["%d/%b/%Y:%H:%M:%S %z"]
    isEventTime: true
  - name: request
    type: string
  - name: method
    type: string
    split: {from: request, separator: " ", index: 0}
  - name: status
    type: int
  - name: body_bytes_sent
    type: bigint
  - name: http_referer
    type: string
  - name: http_user_agent
    type: string
"""
NGINX = NGINX.replace(
    "NGINX_COMBINED",
    '%{remote_addr} - %{remote_user} [%{time_local}] "%{request}" %{status} '
    '%{body_bytes_sent} "%{http_referer}" "%{http_user_agent}"',
)
NGINX_LINES = (
    b'203.0.113.9 - alice [27/Nov/2026:10:00:00 +0100] "GET /index.html HTTP/1.1" 200 612 "-" '
    b'"curl/8.4.0"\n'
    b'198.51.100.7 - - [27/Nov/2026:10:00:01 +0000] "POST /login HTTP/1.1" 401 0 '
    b'"https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"\n'
    b"this is not an access log line\n"
)

SYSLOG = r"""
schema: Custom.Syslog
parser:
  regex:
    patternDefinitions:
      PROG: '[\w./-]+'
    match:
      - '<%{POSINT:priority}>%{SYSLOGTIMESTAMP:timestamp} %{HOSTNAME:host} '
      - '%{PROG:program}(?:\[%{POSINT:pid}\])?: (?P<message>.*)'
fields:
  - name: priority
    type: smallint
  - name: timestamp
    type: string
  - name: host
    type: string
    indicators: [hostname]
  - name: program
    required: true
    type: string
  - name: pid
    type: int
  - name: message
    type: string
"""

CSV_EXPORT = """
schema: Custom.Export
parser:
  csv:
    hasHeader: true
    emptyValues: [""]
fields:
  - name: time
    required: true
    type: timestamp
    timeFormats: [rfc3339]
    isEventTime: true
  - name: user
    type: string
  - name: action
    type: string
  - name: src_ip
    type: string
    indicators: [ip]
  - name: bytes
    type: bigint
"""
CSV_LINES = (
    b"time,user,action,src_ip,bytes\n"
    b"2026-11-27T10:00:00Z,alice,login,203.0.113.9,120\n"
    b'2026-11-27T10:00:01Z,"bob, jr",logout,198.51.100.7,\n'
    b"2026-11-27T10:00:02Z,too,few\n"
)


def parse_all(schema_text: str, body: bytes) -> list:
    parser = compile_schema(load_schema(schema_text))
    return list(parse_stream(body, classifier=parser, origin=ORIGIN))


def test_an_nginx_access_log_via_fastmatch():
    first, second, bad = parse_all(NGINX, NGINX_LINES)
    assert first.fields == {
        "remote_addr": "203.0.113.9",
        "remote_user": "alice",
        "time_local": "2026-11-27T09:00:00.000000Z",
        "request": "GET /index.html HTTP/1.1",
        "method": "GET",
        "status": 200,
        "body_bytes_sent": 612,
        "http_user_agent": "curl/8.4.0",
    }
    assert first.indicators == {"p_any_ip_addresses": ["203.0.113.9"]}
    assert "remote_user" not in second.fields  # "-" is empty
    assert second.fields["http_referer"] == "https://example.com/"
    assert second.fields["method"] == "POST"
    assert type(bad) is ParseFailure
    assert bad.error == "the line does not match the fastmatch pattern"


def test_a_syslog_line_via_regex_with_pattern_definitions():
    line = b"<34>Nov 27 10:00:00 web-1 sshd[4242]: Failed password for root from 203.0.113.9\n"
    (event,) = parse_all(SYSLOG, line)
    assert event.fields == {
        "priority": 34,
        "timestamp": "Nov 27 10:00:00",
        "host": "web-1",
        "program": "sshd",
        "pid": 4242,
        "message": "Failed password for root from 203.0.113.9",
    }
    (no_pid,) = parse_all(SYSLOG, b"<13>Nov  7 01:02:03 db cron: job done\n")
    assert no_pid.fields["program"] == "cron"
    assert "pid" not in no_pid.fields


def test_a_csv_export_with_a_header_quotes_and_a_short_row():
    first, second, short = parse_all(CSV_EXPORT, CSV_LINES)
    assert first.fields == {
        "time": "2026-11-27T10:00:00.000000Z",
        "user": "alice",
        "action": "login",
        "src_ip": "203.0.113.9",
        "bytes": 120,
    }
    assert second.fields["user"] == "bob, jr"
    assert "bytes" not in second.fields
    assert second.line == 3  # the header is line 1, not an event
    assert type(short) is ParseFailure


def test_csv_with_columns_and_lines_to_skip():
    schema = CSV_EXPORT.replace(
        "hasHeader: true",
        "columns: [time, user, action, src_ip, bytes]\n    skipHeaderLines: 2\n    delimiter: ';'",
    )
    body = b"# exported\n# by a tool\n2026-11-27T10:00:00Z;alice;login;203.0.113.9;1\n"
    (event,) = parse_all(schema, body)
    assert event.fields["bytes"] == 1


def test_text_logs_are_lines_even_when_they_start_like_json():
    schema = SYSLOG.replace("'<%{POSINT:priority}>", r"'\[%{POSINT:priority}\]")
    (event,) = parse_all(schema, b"[34]Nov 27 10:00:00 web-1 sshd: hi\n")
    assert event.fields["message"] == "hi"


def test_a_classifier_tries_text_and_json_log_types():
    nginx = compile_schema(load_schema(NGINX))
    export = compile_schema(
        load_schema(
            CSV_EXPORT.replace("hasHeader: true", "columns: [time, user, action, src_ip, bytes]")
        )
    )
    classifier = Classifier([nginx, export])
    results = list(
        parse_stream(
            NGINX_LINES.splitlines(keepends=True)[0] + b"2026-11-27T10:00:00Z,a,b,10.0.0.1,2\n",
            classifier=classifier,
            origin=ORIGIN,
        )
    )
    assert [r.log_type for r in results] == ["Custom.Nginx", "Custom.Export"]


@pytest.mark.parametrize(
    ("change", "path", "problem"),
    [
        ("'<%{POSINT:priority}>", "parser.regex.match", "unknown pattern %{POSINTT}"),
        ("'[\\w./-]+'", "parser.regex.match", "invalid regular expression"),
    ],
)
def test_a_broken_pattern_is_a_schema_error_on_its_option(change, path, problem):
    broken = {
        "'<%{POSINT:priority}>": SYSLOG.replace("%{POSINT:priority}", "%{POSINTT:priority}"),
        "'[\\w./-]+'": SYSLOG.replace("'[\\w./-]+'", "'[\\w./-+'"),
    }[change]
    with pytest.raises(SchemaError) as error:
        load_schema(broken)
    assert error.value.path == path
    assert problem in error.value.problem


def test_csv_needs_columns_or_a_header():
    with pytest.raises(SchemaError, match="give the columns, or hasHeader"):
        load_schema(CSV_EXPORT.replace("hasHeader: true", "delimiter: ','"))


TRANSFORMED = """
schema: Custom.Transformed
fields:
  - name: user_name
    required: true
    type: string
    rename: {from: user}
  - name: region
    type: string
    copy: {from: cloud.region}
  - name: cloud
    type: json
  - name: where
    type: string
    concat: {paths: [cloud.region, cloud.zone], separator: "/"}
  - name: first_tag
    type: string
    split: {from: tags, separator: ",", index: 0}
  - name: email
    type: string
    mask: {type: sha256, salt: pepper}
  - name: password
    type: string
    mask: {type: redact}
  - name: details
    type: object
    isEmbeddedJSON: true
    fields:
      - name: code
        type: int
"""


def test_transformations_rename_copy_concat_split_mask():
    line = (
        b'{"user":"alice","cloud":{"region":"eu-west-1","zone":"b"},"tags":"prod,web",'
        b'"email":"a@example.com","password":"hunter2","details":"{\\"code\\": 7}"}'
    )
    (event,) = parse_all(TRANSFORMED, line)
    assert event.fields["user_name"] == "alice"
    assert "user" not in event.fields
    assert event.fields["region"] == "eu-west-1"
    assert event.fields["where"] == "eu-west-1/b"
    assert event.fields["first_tag"] == "prod"
    assert event.fields["email"] == hashlib.sha256(b"peppera@example.com").hexdigest()
    assert event.fields["password"] == "****"
    assert event.fields["details"] == {"code": 7}
    assert event.extra == {"tags": "prod,web"}
    (missing,) = parse_all(TRANSFORMED, b'{"name":"x"}')
    assert type(missing) is ParseFailure
    assert "user_name" in missing.error


def test_transformations_only_on_top_level_fields():
    nested = TRANSFORMED.replace(
        "      - name: code\n", "      - name: code\n        rename: {from: c}\n"
    )
    with pytest.raises(SchemaError, match="top-level fields only"):
        load_schema(nested)


def test_a_csv_line_with_a_broken_quote_is_a_failure():
    (broken,) = parse_all(CSV_EXPORT, b'time,user\n2026-11-27T10:00:00Z,"bob\n')
    assert type(broken) is ParseFailure


def test_every_result_of_a_text_parser_is_an_event_or_a_failure():
    results = parse_all(NGINX, NGINX_LINES + b"\xff\xfe not utf-8\n")
    assert [type(r) for r in results] == [ParsedEvent, ParsedEvent, ParseFailure, ParseFailure]
