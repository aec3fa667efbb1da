"""Shared helpers of the wire fixture generators: Kafka JSON schemas (with `//` comments), Tern's
naming of generated Swift properties and types (tools/codegen's conventions), Swift literals for
message values, and the encoded size of a value at a version.

A message value is a dict keyed by the schema's field names ("Topics", "ErrorCode"); nested
structs are dicts, arrays are lists, strings str, bytes/records bytes, uuids uuid.UUID, null
None. The key "_unknown" holds unknown tagged fields [(tag, bytes)] of a struct. A value may be
a `Switch`, resolved per version.
"""
import json
import re
import uuid
import zlib


def strip_comments(text):
    """Removes `//` comments outside string literals."""
    out = []
    in_string = escaped = False
    i = 0
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif c == "/" and text[i + 1:i + 2] == "/":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        return json.loads(strip_comments(f.read()))


def parse_versions(text):
    """(low, high) or None for "none"/absent."""
    if text is None:
        return None
    text = text.strip()
    if text in ("", "none"):
        return None
    if text.endswith("+"):
        return (int(text[:-1]), 32767)
    if "-" in text:
        low, high = text.split("-")
        return (int(low), int(high))
    return (int(text), int(text))


def in_versions(versions, version):
    return versions is not None and versions[0] <= version <= versions[1]


class Field:
    """One schema field with what the generators need."""

    def __init__(self, json_field):
        self.json = json_field
        self.name = json_field["name"]
        self.type = json_field["type"].strip()
        self.versions = parse_versions(json_field.get("versions"))
        self.nullable = parse_versions(json_field.get("nullableVersions"))
        self.tagged = parse_versions(json_field.get("taggedVersions"))
        self.tag = json_field.get("tag")
        self.default = json_field.get("default", "")
        self.fields = [Field(f) for f in json_field.get("fields", [])] if "fields" in json_field else None

    @property
    def is_array(self):
        return self.type.startswith("[]")

    @property
    def element(self):
        return self.type[2:] if self.is_array else self.type

    @property
    def is_struct(self):
        return self.element[0].isupper()

    def present(self, version):
        return in_versions(self.versions, version)

    def is_tagged(self, version):
        return in_versions(self.tagged, version)

    def is_nullable(self, version):
        return in_versions(self.nullable, version) or self.type == "records"

    def default_value(self):
        """The schema default as a value (what Tern's generated init uses)."""
        d = self.default
        if isinstance(d, str) and d == "null":
            return None
        if self.is_array:
            return []
        if self.is_struct:
            return {}
        t = self.type
        if t == "records":
            return None
        if t == "bytes":
            return b""
        if t == "string":
            return d if isinstance(d, str) else ""
        if t == "bool":
            return d is True or (isinstance(d, str) and d.lower() == "true")
        if t == "uuid":
            return uuid.UUID(int=0)
        if t == "float64":
            return float(d) if d != "" else 0.0
        if d == "" or d is None:
            return 0
        if isinstance(d, str):
            return int(d, 16) if d.lower().startswith("0x") else int(d)
        return int(d)


class Message:
    def __init__(self, schema):
        self.schema = schema
        self.name = schema["name"]
        self.versions = parse_versions(schema["validVersions"])
        self.flexible = parse_versions(schema.get("flexibleVersions"))
        self.fields = [Field(f) for f in schema["fields"]]
        self.structs = {}  # struct name -> fields
        for s in schema.get("commonStructs", []):
            self.structs[s["name"]] = [Field(f) for f in s["fields"]]

        def collect(fields):
            for f in fields:
                if f.fields is not None:
                    self.structs[f.element] = f.fields
                    collect(f.fields)

        collect(self.fields)

    def struct_fields(self, field):
        return field.fields if field.fields is not None else self.structs[field.element]

    def is_flexible(self, version):
        return in_versions(self.flexible, version)

    @property
    def has_flexible(self):
        return self.flexible is not None


# MARK: naming (tools/codegen/Sources/tern-codegen/Emitter.swift)

SWIFT_KEYWORDS = set(
    "associatedtype class deinit enum extension fileprivate func import init inout internal let open "
    "operator private protocol public static struct subscript typealias var break case continue default "
    "defer do else fallthrough for guard if in repeat return switch where while as catch false is nil "
    "rethrows super self throw throws true try Type Self".split()
)


def property_name(schema_name):
    name = schema_name
    prefix = ""
    while name and name[0].isupper():
        rest = name[1:]
        if rest and rest[0].islower() and prefix:
            break
        prefix += name[0].lower()
        name = rest
    result = prefix + name
    return "`%s`" % result if result in SWIFT_KEYWORDS else result


def mapped_type(field, message_name):
    t, n = field.type, field.name
    if t == "int16" and n.endswith("ErrorCode"):
        return "KafkaErrorCode"
    if t == "int16" and n == "ApiKey":
        return "ApiKey"
    if t == "int8" and n == "ConfigSource":
        return "ConfigSource"
    if t == "int8" and n == "ResourceType" and "Config" in message_name:
        return "ConfigResourceType"
    if t == "int8" and n == "IsolationLevel":
        return "IsolationLevel"
    return None


class Switch:
    """A value that depends on the version: `when(version)` picks `then` or `otherwise`."""

    def __init__(self, when, then, otherwise, swift_condition):
        self.when, self.then, self.otherwise, self.swift_condition = when, then, otherwise, swift_condition


def resolve(value, version):
    while isinstance(value, Switch):
        value = value.then if value.when(version) else value.otherwise
    if callable(value):
        return value(version)
    return value


# MARK: Swift literals

def swift_string(text):
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"%s"' % escaped


def swift_bytes(data):
    return "ByteBuffer(bytes: [%s] as [UInt8])" % ", ".join("0x%02x" % b for b in data)


def swift_uuid(u):
    n = u.int
    return "KafkaUUID(mostSignificantBits: 0x%016x, leastSignificantBits: 0x%016x)" % (n >> 64, n & (2**64 - 1))


class SwiftEmitter:
    """Swift expressions for values of one message. With `version` set, only fields present at
    that version are written (the others keep Tern's defaults)."""

    def __init__(self, message, version=None, version_variable=None):
        self.message = message
        self.version = version
        self.version_variable = version_variable

    def scalar(self, field, element_type, value):
        if value is None:
            return "nil"
        mapped = mapped_type(field, self.message.name) if not field.is_array else None
        if mapped:
            return ".init(rawValue: %d)" % value
        if element_type in ("int8", "int16", "int32", "int64", "uint16", "uint32"):
            return str(int(value))
        if element_type == "float64":
            return repr(float(value))
        if element_type == "bool":
            return "true" if value else "false"
        if element_type == "string":
            return swift_string(value)
        if element_type in ("bytes", "records"):
            return swift_bytes(value)
        if element_type == "uuid":
            return swift_uuid(value)
        raise ValueError("type %s" % element_type)

    def value(self, field, value):
        if isinstance(value, Switch):
            return "(%s ? %s : %s)" % (
                value.swift_condition(self.version_variable),
                self.value(field, value.then),
                self.value(field, value.otherwise),
            )
        if value is None:
            return "nil"
        if field.is_array:
            if field.is_struct:
                items = [self.struct(field.element, self.message.struct_fields(field), v) for v in value]
            else:
                items = [self.scalar(field, field.element, v) for v in value]
            return "[%s]" % ", ".join(items)
        if field.is_struct:
            return self.struct(field.element, self.message.struct_fields(field), value)
        return self.scalar(field, field.type, value)

    def struct(self, type_name, fields, value):
        args = []
        for f in fields:
            if f.name not in value:
                continue
            if self.version is not None and not f.present(self.version):
                continue
            args.append("%s: %s" % (property_name(f.name).strip("`"), self.value(f, value[f.name])))
        unknown = value.get("_unknown")
        if unknown and (self.version is None or self.message.is_flexible(self.version)):
            args.append(
                "unknownTaggedFields: [%s]"
                % ", ".join("TaggedField(tag: %d, data: %s)" % (t, swift_bytes(d)) for t, d in unknown)
            )
        qualified = self.message.name if type_name is None else "%s.%s" % (self.message.name, type_name)
        return "%s(%s)" % (qualified, ", ".join(args))

    def top(self, value):
        return self.struct(None, self.message.fields, value)


# MARK: sizes

def uvarint_size(n):
    size = 1
    while n >= 0x80:
        n >>= 7
        size += 1
    return size


def _length_size(length, flexible, null_width):
    """Size of a length prefix: compact unsigned varint (n+1) or a fixed int."""
    if flexible:
        return uvarint_size(0 if length is None else length + 1)
    return null_width


FIXED = {"int8": 1, "int16": 2, "int32": 4, "int64": 8, "uint16": 2, "uint32": 4, "float64": 8, "bool": 1, "uuid": 16}


def encoded_size(message, version, value):
    """The size Tern's encoding of `value` must have at `version`, from the schema alone."""
    return _struct_size(message, message.fields, value, version, message.is_flexible(version))


def _struct_size(message, fields, value, version, flexible):
    size = 0
    tagged = []
    for f in fields:
        if not f.present(version):
            continue
        v = resolve(value.get(f.name, f.default_value()), version)
        if f.is_tagged(version):
            if v != f.default_value():
                tagged.append((f.tag, _field_size(message, f, v, version, True)))
            continue
        size += _field_size(message, f, v, version, flexible)
    if flexible:
        entries = tagged + [(t, len(d)) for t, d in value.get("_unknown", [])]
        size += uvarint_size(len(entries))
        for tag, length in entries:
            size += uvarint_size(tag) + uvarint_size(length) + length
    return size


def _field_size(message, f, v, version, flexible):
    if f.is_array:
        if v is None:
            return _length_size(None, flexible, 4)
        size = _length_size(len(v), flexible, 4)
        for item in v:
            if f.is_struct:
                size += _struct_size(message, message.struct_fields(f), item, version, flexible)
            else:
                size += _scalar_size(f.element, item, flexible)
        return size
    if f.is_struct:
        # A nullable struct has a one-byte marker before it: -1 null, 1 present.
        nullable = f.nullable is not None and f.nullable[0] <= version <= f.nullable[1]
        if nullable and v is None:
            return 1
        return (1 if nullable else 0) + _struct_size(message, message.struct_fields(f), v, version, flexible)
    return _scalar_size(f.type, v, flexible)


def _scalar_size(t, v, flexible):
    if t in FIXED:
        return FIXED[t]
    if t == "string":
        if v is None:
            return _length_size(None, flexible, 2)
        n = len(v.encode("utf-8"))
        return (uvarint_size(n + 1) if flexible else 2) + n
    if t in ("bytes", "records"):
        if v is None:
            return _length_size(None, flexible, 4)
        return (uvarint_size(len(v) + 1) if flexible else 4) + len(v)
    raise ValueError(t)


# MARK: automatic values

ERROR_CODES = [3, 5, 6, 7, 15, 16, 25, 27, 36, 87]


def _h(path):
    return zlib.crc32(path.encode())


def kebab(name):
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "-", name).lower()


def auto_value(message, field, path, depth=0, unknown_tags=False):
    """A deterministic value other than the field's default (arrays get 2 elements at the top
    level, 1 deeper down)."""
    if field.is_array:
        items = []
        for i in range(2 if depth == 0 else 1):
            item_path = "%s[%d]" % (path, i)
            if field.is_struct:
                items.append(auto_struct(message, message.struct_fields(field), item_path, depth + 1, unknown_tags))
            else:
                items.append(_auto_scalar(field, field.element, item_path, None))
        return items
    if field.is_struct:
        return auto_struct(message, message.struct_fields(field), path, depth + 1, unknown_tags)
    return _auto_scalar(field, field.type, path, field.default_value())


def _auto_scalar(field, t, path, default):
    h = _h(path)
    if t == "int8":
        v = 1 + h % 4
    elif t == "int16":
        v = ERROR_CODES[h % len(ERROR_CODES)] if field.name.endswith("ErrorCode") else 1 + h % 300
    elif t == "int32":
        v = 100 + h % 100000
    elif t == "int64":
        v = 1_000_000 + h % 10_000_000
    elif t == "uint16":
        v = 1 + h % 60000
    elif t == "uint32":
        v = 1 + h % 100000
    elif t == "float64":
        v = 1.5 + h % 10
    elif t == "bool":
        v = not default if default is not None else True
    elif t == "string":
        v = "%s-%d" % (kebab(field.name), h % 100)
    elif t == "bytes":
        v = bytes([h % 256, 1, 2])
    elif t == "records":
        v = bytes.fromhex("000000000000000a0000003c")
    elif t == "uuid":
        v = uuid.UUID(int=(h * 0x9E3779B97F4A7C15 + 1) % (2**128) | (1 << 100))
    else:
        raise ValueError(t)
    if v == default:
        v = v + 1 if isinstance(v, int) and not isinstance(v, bool) else v
    return v


def auto_struct(message, fields, path, depth=0, unknown_tags=False):
    """A struct value with every field set; with `unknown_tags`, an unknown tagged field (tag 200 +
    depth) in every struct of a message that has flexible versions."""
    value = {}
    for f in fields:
        value[f.name] = auto_value(message, f, "%s.%s" % (path, f.name), depth, unknown_tags)
    if unknown_tags and message.has_flexible:
        value["_unknown"] = [(200 + depth, bytes([0xAB, depth & 0xFF]))]
    return value
