#!/usr/bin/env python3
"""Generates golden bytes for Tern's wire codec from an independent codec: kafka-python's
protocol classes (JSON-schema driven, pip package `kafka-python`, pinned in tools/setup.sh).

Each `cases_<family>.py` beside this script defines MESSAGES: a list of
(kafka_python_class, value) where value is a realistic message as a dict keyed by the schema's
field names ("Topics", "ErrorCode"; nested structs as dicts, arrays as lists; a value may be a
function of the version). Fields the value leaves out get a deterministic non-default value.
For every version both kafka-python and Tern know (kafka-python's validVersions, plus older
versions its classes still encode where its schema has the fields Kafka's 4.0 schema gives that
version, see older_versions), the generator keeps the fields of that version, encodes the
message with kafka-python, and writes to Tests/TernWireTests/Golden/Golden+<Family>.swift the
bytes as hex together with the same message built with Tern's types (the fields of that version
only, named as tools/codegen names them: see swift_values.py). The Swift tests check that Tern
encodes the value to exactly those bytes and decodes the bytes back to the value.

Run from the repository root: .venv/bin/python tools/golden/gen_wire_golden.py
"""
import importlib.util
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import swift_values as sv  # noqa: E402
import kafka.protocol  # noqa: E402

ROOT = HERE.parent.parent
OUT = ROOT / "Tests" / "TernWireTests" / "Golden"
GENERATED = ROOT / "Sources" / "TernWire" / "Generated"
KP_SCHEMAS = pathlib.Path(kafka.protocol.__file__).parent / "schemas" / "resources"


def tern_versions(name):
    text = (GENERATED / ("%s.swift" % name)).read_text()
    match = re.search(r"static let versions: ClosedRange<Int16> = (\d+)\.\.\.(\d+)", text)
    return int(match.group(1)), int(match.group(2))


def swift_identifier(family):
    return "".join(part.capitalize() for part in family.split("_"))


def complete(message, fields, spec, path):
    """The spec with every missing field (recursively) given an automatic value."""
    value = {}
    for f in fields:
        sub_path = "%s.%s" % (path, f.name)
        if f.name not in spec:
            value[f.name] = sv.auto_value(message, f, sub_path)
            continue
        v = spec[f.name]
        if f.is_struct and isinstance(v, list):
            v = [complete(message, message.struct_fields(f), item, "%s[%d]" % (sub_path, i)) for i, item in enumerate(v)]
        elif f.is_struct and isinstance(v, dict):
            v = complete(message, message.struct_fields(f), v, sub_path)
        value[f.name] = v
    return value


def at_version(message, fields, value, version, path):
    """The value restricted to the fields of `version`, version-dependent values resolved, tagged
    fields at their default dropped (neither codec writes them)."""
    out = {}
    for f in fields:
        if not f.present(version):
            continue
        v = sv.resolve(value[f.name], version)
        if f.is_struct and v is not None:
            sub = message.struct_fields(f)
            v = [at_version(message, sub, item, version, path) for item in v] if f.is_array \
                else at_version(message, sub, v, version, path)
        if v is None and not f.is_nullable(version):
            raise ValueError("%s.%s is null at v%d, where it is not nullable" % (path, f.name, version))
        if f.is_tagged(version) and is_default(message, f, v, version):
            continue
        out[f.name] = v
    return out


def is_default(message, field, value, version):
    """Whether a (restricted) value equals the field's default, as Kafka's generated code compares
    tagged fields before writing them: a struct is at its default when all its fields are."""
    if field.is_struct and not field.is_array and isinstance(value, dict):
        return all(
            f.name not in value or is_default(message, f, value[f.name], version)
            for f in message.struct_fields(field) if f.present(version)
        ) and not value.get("_unknown")
    return value == field.default_value()


def kafka_python_value(message, fields, kp_fields, value):
    """kwargs for a kafka-python data class from a value restricted to a version."""
    kwargs = {}
    for f, kp in zip(fields, kp_fields):
        assert kp._name == f.name or kp._type_str == "bitfield", (f.name, kp._name)
        if f.name not in value:
            continue
        v = value[f.name]
        if v is not None and f.is_struct:
            cls = kp.data_class
            sub = message.struct_fields(f)
            children = list(cls._struct.fields.values())
            make = lambda item: cls(**kafka_python_value(message, sub, children, item))  # noqa: E731
            v = [make(item) for item in v] if f.is_array else make(v)
        elif v is not None and kp._type_str == "bitfield":
            v = {bit for bit in range(32) if (v >> bit) & 1}
        kwargs[kp.name] = v
    return kwargs


REFERENCE_SCHEMAS = ROOT.parent / "shared" / "reference" / "kafka-messages"


def signature(message, fields, version):
    """What a version of a struct puts on the wire: its fields' names, types, nullability and tags."""
    out = []
    for f in fields:
        if not f.present(version):
            continue
        nested = signature(message, message.struct_fields(f), version) if f.is_struct else None
        out.append((f.name.lower(), f.type, f.is_nullable(version), f.is_tagged(version) and f.tag, nested))
    return out


def older_versions(message, name, kp_low, tern_low):
    """Versions below kafka-python's validVersions that its classes still encode (they accept any
    version from 0, with the schema's field ranges) where its schema has exactly the fields Kafka's
    4.0 schema gives that version: kafka-python then writes those versions correctly too. Without
    the reference schemas the check is skipped (it holds for every version of the served APIs with
    kafka-python 3.0.12), so the output does not depend on where the generator runs."""
    path = REFERENCE_SCHEMAS / ("%s.json" % name)
    if not path.is_file():
        if not getattr(older_versions, "warned", False):
            print("no reference schemas at %s: older versions unchecked" % REFERENCE_SCHEMAS, file=sys.stderr)
            older_versions.warned = True
        return list(range(tern_low, kp_low))
    reference = sv.Message(sv.load_schema(path))
    return [
        v for v in range(tern_low, kp_low)
        if signature(message, message.fields, v) == signature(reference, reference.fields, v)
    ]


def cases(cls, spec):
    name = cls.name
    message = sv.Message(sv.load_schema(KP_SCHEMAS / ("%s.json" % name)))
    kp_fields = list(cls._struct.fields.values())
    assert len(kp_fields) == len(message.fields), name
    value = complete(message, message.fields, spec, name)
    kp_low, kp_high = cls.valid_versions
    tern_low, tern_high = tern_versions(name)
    versions = older_versions(message, name, kp_low, tern_low) + list(range(max(kp_low, tern_low), min(kp_high, tern_high) + 1))
    out = []
    for version in versions:
        restricted = at_version(message, message.fields, value, version, name)
        kp_message = cls[version](**kafka_python_value(message, message.fields, kp_fields, restricted))
        body = bytes(kp_message.encode())
        swift = sv.SwiftEmitter(message, version=version).top(restricted)
        out.append((name, version, body.hex(), swift))
    return message, versions, out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for path in sorted(HERE.glob("cases_*.py")):
        family = path.stem[len("cases_"):]
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        identifier = swift_identifier(family)
        entries = []
        coverage = []
        for cls, value in module.MESSAGES:
            message, versions, generated = cases(cls, value)
            assert versions == list(range(versions[0], versions[-1] + 1)), (message.name, versions)
            coverage.append('        "%s": %d...%d,' % (message.name, versions[0], versions[-1]))
            for name, version, body, swift in generated:
                entries += [
                    "        GoldenCase(",
                    '            "%s", version: %d,' % (name, version),
                    '            hex: "%s",' % body,
                    "            %s" % swift,
                    "        ),",
                ]
        payload_lines = []
        if getattr(module, "PAYLOADS", None):
            payload_lines = ["", "    /// Other kafka-python encodings (consumer-protocol payloads), by name.",
                             "    static let %sPayloads: [String: String] = [" % (identifier[0].lower() + identifier[1:])]
            payload_lines += ['        "%s": "%s",' % (name, bytes(obj.encode()).hex()) for name, obj in module.PAYLOADS]
            payload_lines.append("    ]")
        lines = [
            "// Generated by tools/golden/gen_wire_golden.py from tools/golden/%s with kafka-python." % path.name,
            "// Do not edit: change the cases and run the generator again.",
            "// swift-format-ignore-file",
            "",
            "import NIOCore",
            "import TernWire",
            "",
            "extension GoldenCase {",
            "    /// The versions of each message both kafka-python and Tern know: one case each.",
            "    static let %sVersions: [String: ClosedRange<Int16>] = [" % (identifier[0].lower() + identifier[1:]),
            *coverage,
            "    ]",
            "",
            "    static let %s: [GoldenCase] = [" % (identifier[0].lower() + identifier[1:]),
            *entries,
            "    ]",
            *payload_lines,
            "}",
            "",
        ]
        target = OUT / ("Golden+%s.swift" % identifier)
        target.write_text("\n".join(lines))
        print("wrote %s (%d cases)" % (target.relative_to(ROOT), len(entries) // 5), file=sys.stderr)


if __name__ == "__main__":
    main()
