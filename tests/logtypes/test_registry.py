"""logtypes.registry: built-in schemas + SLUICE_SCHEMAS_DIR, tile metadata, reloading on change."""

import logging

import pytest

from logtypes import registry as logtypes
from logtypes.registry import LogType, current_registry, load
from parsers import LogType as SchemaLogType
from parsers import ParsedEvent, ParseFailure, default_registry, load_schema
from tests.logtypes.conftest import FIREWALL, FIREWALL_SCHEMA

BUILTINS = ["Gravitational.TeleportAudit", "Sluice.SSHAuth"]


def test_built_in_log_types_carry_tile_metadata_from_the_apps_catalog(schemas_dir):
    teleport = logtypes.get("Gravitational.TeleportAudit")
    assert (teleport.title, teleport.vendor, teleport.category, teleport.icon) == (
        "Teleport",
        "Gravitational",
        "Identity & Access",
        "teleport",
    )
    assert teleport.transports == ("s3", "sqs")
    assert teleport.field_count == 168
    assert teleport.reference_url == "https://goteleport.com/docs/admin-guide/#audit-log"
    assert teleport.description.startswith("Teleport logs events like successful user logins")
    ssh = logtypes.get("Sluice.SSHAuth")
    assert (ssh.title, ssh.category, ssh.icon) == (
        "OpenSSH authentication",
        "Infrastructure",
        "ssh",
    )
    assert logtypes.names() == BUILTINS
    assert [t.name for t in logtypes.all()] == BUILTINS


def test_without_a_schema_folder_the_built_ins_are_all(settings, tmp_path):
    settings.SLUICE_SCHEMAS_DIR = tmp_path / "absent"
    assert logtypes.names() == BUILTINS
    assert current_registry().problems == ()
    # the parsers are the built-in registry's, compiled once per process
    assert logtypes.get("Sluice.SSHAuth").parser is default_registry().get("Sluice.SSHAuth").parser


def test_a_schema_dropped_into_the_folder_is_a_log_type_with_its_tile(firewall):
    assert logtypes.names() == [FIREWALL, *BUILTINS]
    acme = logtypes.get(FIREWALL)
    assert (acme.title, acme.vendor, acme.category, acme.icon, acme.transports) == (
        "Acme Firewall",
        "Acme",
        "Network",
        "acme-firewall",
        ("s3", "sqs"),
    )
    assert acme.field_count == 8
    assert acme.reference_url == "https://acme.example/docs/firewall-log"
    assert [f.column for f in acme.schema.fields][3:7] == [
        "src_ip",
        "dst_port",
        "dst_zone",
        "conn_opened",
    ]


def test_tile_metadata_defaults_and_precedence(schemas_dir):
    (schemas_dir / "a.yml").write_text(
        "schema: Foo.Bar\nfields:\n  - name: x\n    type: json\n"  # nothing said: defaults
    )
    (schemas_dir / "b.yaml").write_text(
        "schema: Foo.Inline\ntitle: Inline title\ncategory: Network\ntransports: sqs\n"
        "fields:\n  - name: x\n    type: string\n"
    )
    (schemas_dir / "c.yml").write_text(  # replaces a built-in: keeps its tile unless told
        "schema: Sluice.SSHAuth\nfields:\n  - name: x\n    type: string\n"
    )
    (schemas_dir / "catalog.yml").write_text(
        "Foo.Inline:\n  title: The catalog wins\nSluice.SSHAuth:\n  icon: terminal\n"
    )
    bar, inline, ssh = (logtypes.get(n) for n in ("Foo.Bar", "Foo.Inline", "Sluice.SSHAuth"))
    assert (bar.title, bar.vendor, bar.category, bar.icon, bar.transports) == (
        "Bar",
        "Foo",
        "Custom",
        "bar",
        ("s3", "sqs"),
    )
    assert (inline.title, inline.category, inline.transports) == (
        "The catalog wins",
        "Network",
        ("sqs",),
    )
    assert (ssh.title, ssh.category, ssh.icon, ssh.field_count) == (
        "OpenSSH authentication",
        "Infrastructure",
        "terminal",
        1,
    )
    assert default_registry().get("Sluice.SSHAuth").field_count == 14


def test_the_registry_reloads_when_a_file_is_added_changed_or_removed(schemas_dir):
    first = current_registry()
    assert current_registry() is first  # nothing changed: the same registry, no reload
    schema = schemas_dir / "acme_firewall.yml"
    schema.write_text(FIREWALL_SCHEMA)
    assert FIREWALL in logtypes.names()
    assert logtypes.get(FIREWALL).field_count == 8
    schema.write_text(FIREWALL_SCHEMA + "  - name: bytes\n    type: bigint\n")
    assert logtypes.get(FIREWALL).field_count == 9
    (schemas_dir / "catalog.yml").write_text("Acme.Firewall:\n  title: Renamed\n")
    assert logtypes.get(FIREWALL).title == "Renamed"
    schema.unlink()
    assert logtypes.names() == BUILTINS
    with pytest.raises(KeyError, match=r"unknown log type 'Acme\.Firewall'"):
        logtypes.get(FIREWALL)


def test_a_broken_schema_file_is_left_out_and_reported_the_others_stay(schemas_dir, caplog):
    (schemas_dir / "good.yml").write_text(FIREWALL_SCHEMA)
    (schemas_dir / "broken.yml").write_text("schema: A.B\nfields:\n  - name: x\n    type: text\n")
    (schemas_dir / "twin.yml").write_text(FIREWALL_SCHEMA.replace("Connections", "Twin"))
    with caplog.at_level(logging.ERROR, logger="logtypes.registry"):
        registry = current_registry()
    assert registry.names() == [FIREWALL, *BUILTINS]
    assert registry.get(FIREWALL).description.startswith("Connections")
    broken, twin = registry.problems
    assert broken.startswith(f"{schemas_dir / 'broken.yml'}: fields[0] (x).type")
    assert twin.startswith(f"{schemas_dir / 'twin.yml'}: schema: log type 'Acme.Firewall' is")
    assert "log type left out" in caplog.text


def test_a_broken_catalog_is_reported_and_the_schemas_still_load(schemas_dir):
    (schemas_dir / "good.yml").write_text(FIREWALL_SCHEMA)
    (schemas_dir / "catalog.yml").write_text("- not\n- a mapping\n")
    registry = current_registry()
    assert registry.get(FIREWALL).title == "Firewall"
    assert registry.problems == (
        f"{schemas_dir / 'catalog.yml'}: a catalog maps log type names to metadata mappings",
    )


def test_unknown_log_types_raise_a_helpful_key_error(firewall):
    with pytest.raises(KeyError) as caught:
        logtypes.get("Acme.Firewal")
    message = caught.value.args[0]
    assert "unknown log type 'Acme.Firewal'; did you mean 'Acme.Firewall'?" in message
    assert f"known: {FIREWALL}, {', '.join(BUILTINS)}" in message
    with pytest.raises(KeyError):
        logtypes.classifier_for(["Gravitational.TeleportAudit", "No.Such"])


def test_classifier_for_parses_with_the_folders_schemas(firewall):
    from parsers import Origin

    classifier = logtypes.classifier_for((FIREWALL, "Sluice.SSHAuth"))
    assert classifier.log_types == [FIREWALL, "Sluice.SSHAuth"]
    origin = Origin("1", "fw/a.json", "v1")
    line = b'{"time":"2026-11-27T10:00:00Z","action":"deny","rule":"r1","dst.port":"22"}'
    event = classifier.parse(line, origin, 1)
    assert type(event) is ParsedEvent
    assert (event.log_type, event.fields["dst_port"]) == (FIREWALL, 22)
    assert type(classifier.parse(b'{"action":"deny"}', origin, 2)) is ParseFailure


def test_load_builds_log_types_from_a_given_folder_without_settings(tmp_path):
    (tmp_path / "fw.yml").write_text(FIREWALL_SCHEMA)
    registry = load(tmp_path)
    assert registry.names() == [FIREWALL, *BUILTINS]
    assert len(registry) == 3
    assert FIREWALL in registry
    log_type = LogType.build(SchemaLogType(load_schema(FIREWALL_SCHEMA)), {"title": "T"})
    assert (log_type.title, log_type.vendor, log_type.category) == ("T", "Acme", "Custom")
