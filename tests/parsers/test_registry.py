"""The registry of schemas: built-ins and folders a caller adds (tile metadata: tests/logtypes)."""

import pytest

from parsers import LogType, Registry, SchemaError, default_registry, load_schema


def test_built_in_log_types():
    teleport = default_registry().get("Gravitational.TeleportAudit")
    assert teleport.name == "Gravitational.TeleportAudit"
    assert teleport.field_count == 168
    assert teleport.reference_url == "https://goteleport.com/docs/admin-guide/#audit-log"
    assert teleport.description.startswith("Teleport logs events like successful user logins")
    assert default_registry().names() == ["Gravitational.TeleportAudit", "Sluice.SSHAuth"]
    assert [t.name for t in default_registry().all()] == default_registry().names()


def test_the_parser_is_compiled_once_on_first_use():
    log_type = default_registry().get("Sluice.SSHAuth")
    assert log_type.parser is log_type.parser
    assert log_type.parser.log_type == "Sluice.SSHAuth"


def test_unknown_log_type_error_helps():
    with pytest.raises(KeyError) as caught:
        default_registry().get("Gravitational.TeleportAudt")
    message = caught.value.args[0]
    assert "unknown log type 'Gravitational.TeleportAudt'" in message
    assert "did you mean 'Gravitational.TeleportAudit'?" in message
    assert "known: Gravitational.TeleportAudit, Sluice.SSHAuth" in message


def test_load_folder_reads_yml_and_yaml_and_skips_the_ignored_names(tmp_path):
    (tmp_path / "one.yml").write_text(
        "schema: Acme.Firewall\ntitle: Acme firewall\ncategory: Network\n"
        "fields:\n  - name: src\n    type: string\n    indicators: [ip]\n"
    )
    (tmp_path / "two.yaml").write_text("schema: Acme.VPN\nfields:\n  - name: u\n    type: string\n")
    (tmp_path / "catalog.yml").write_text("Acme.VPN:\n  title: Acme VPN\n")
    registry = Registry()
    loaded = registry.load_folder(tmp_path, ignore={"catalog.yml"})
    assert [t.name for t in loaded] == ["Acme.Firewall", "Acme.VPN"]
    # what a console may show about it stays in the schema document, for the console to read
    assert registry.get("Acme.Firewall").schema.metadata == {
        "title": "Acme firewall",
        "category": "Network",
    }
    with pytest.raises(SchemaError, match=r"catalog\.yml"):
        Registry().load_folder(tmp_path)


def test_a_bad_schema_in_a_folder_names_its_file(tmp_path):
    (tmp_path / "broken.yml").write_text("schema: A.B\nfields:\n  - name: x\n    type: text\n")
    with pytest.raises(SchemaError) as caught:
        Registry().load_folder(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'broken.yml'}: fields[0] (x).type")


def test_duplicate_names_are_refused_unless_replacing(tmp_path):
    registry = Registry(default_registry().all())
    (tmp_path / "dup.yml").write_text(
        "schema: Sluice.SSHAuth\nfields:\n  - name: x\n    type: string\n"
    )
    with pytest.raises(SchemaError, match="already registered"):
        registry.load_folder(tmp_path)
    registry.load_folder(tmp_path, replace=True)
    assert registry.get("Sluice.SSHAuth").field_count == 1
    assert default_registry().get("Sluice.SSHAuth").field_count == 14


def test_a_log_type_is_its_schema_and_parser():
    schema = load_schema("schema: Foo.Bar\ndescription: d\nfields:\n  - name: x\n    type: json\n")
    log_type = LogType(schema)
    assert (log_type.name, log_type.description, log_type.field_count) == ("Foo.Bar", "d", 1)
    assert log_type.parser.log_type == "Foo.Bar"
