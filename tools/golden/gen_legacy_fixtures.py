#!/usr/bin/env python3
"""Regenerates Tests/TernRecordsTests/LegacyFixtures.swift: legacy message sets (magic 0 and 1).

The sets are built by kafka-python 3.0.12 (`kafka.record.legacy_records.LegacyRecordBatchBuilder`), an
implementation independent of Tern's, and the expected messages are what kafka-python's own reader
(`MemoryRecords` / `LegacyRecordBatch`) gives back for them, CRCs checked. Compressed sets need the
codec modules kafka-python uses (python-snappy, lz4, and xxhash for the magic 0 LZ4 framing), which the
repository's .venv lacks, e.g.
    python3 -m venv /tmp/legacy-venv
    /tmp/legacy-venv/bin/pip install kafka-python==3.0.12 python-snappy lz4 xxhash
    /tmp/legacy-venv/bin/python tools/golden/gen_legacy_fixtures.py
The output is deterministic (gzip's header time is pinned to 0) and formatted with `swift format`.
"""

import gzip
import json
import os
import struct
import subprocess
from unittest import mock

from kafka import codec as kafka_codec
from kafka.record.legacy_records import LegacyRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "TernRecordsTests", "LegacyFixtures.swift")

BASE_TIMESTAMP_MS = 1_700_000_000_000

# (key, value, timestamp ms). kafka-python writes timestamp -1 for magic 0 whatever it is given.
RECORDS = [
    (b"key-0", b"value-0", BASE_TIMESTAMP_MS),
    (None, b"null key", BASE_TIMESTAMP_MS - 5),
    (b"", None, BASE_TIMESTAMP_MS + 300),
    (b"k", b"", BASE_TIMESTAMP_MS + 70),
    (b"key-4", b"legacy value " * 10 + b"4", BASE_TIMESTAMP_MS + 1),
]

CODECS = {0: ".none", 1: ".gzip", 2: ".snappy", 3: ".lz4"}


def build(magic, codec, first_offset=0, wrapper_offset=None):
    builder = LegacyRecordBatchBuilder(magic=magic, compression_type=codec, batch_size=1 << 20)
    for i, (key, value, timestamp) in enumerate(RECORDS):
        # Inner offsets of a compressed set are 0, 1, 2, … as kafka-python's producer writes them.
        offset = i if codec else first_offset + i
        assert builder.append(offset, timestamp, key, value) is not None
    with mock.patch.object(gzip.time, "time", return_value=0.0):
        data = bytearray(builder.build())
    if codec:
        assert data[17] & 0x07 == codec, "not compressed"
    if wrapper_offset is not None:
        # The offset field is outside the CRC. Java producers write the last inner offset here.
        struct.pack_into(">q", data, 0, wrapper_offset)
    return bytes(data)


def read_back(data):
    """The messages as kafka-python reads them, CRCs checked."""
    records = MemoryRecords(data)
    out = []
    while True:
        batch = records.next_batch()
        if batch is None:
            break
        assert batch.validate_crc()
        for record in batch:
            assert record.validate_crc()
            timestamp = -1 if record.timestamp is None else record.timestamp
            out.append((record.offset, timestamp, record.key, record.value))
    assert not records.has_next()
    return out


def swift_bytes(value):
    if value is None:
        return "nil"
    text = value.decode("ascii")
    assert all(0x20 <= ord(c) < 0x7F for c in text)
    return json.dumps(text)


def hex_literal(data, indent):
    text = data.hex()
    lines = [text[i:i + 100] for i in range(0, len(text), 100)]
    pad = " " * indent
    return '"""\n' + "".join(pad + line + "\n" for line in lines) + pad + '"""'


def fixture(name, description, magic, codec, data):
    records = read_back(data)
    lines = [
        "        LegacyFixture(",
        f"            name: {json.dumps(name)},",
        f"            description: {json.dumps(description)},",
        f"            magic: {magic},",
        f"            codec: {CODECS[codec]},",
        f"            hex: {hex_literal(data, 16)},",
        "            records: [",
    ]
    for offset, timestamp, key, value in records:
        lines.append(
            f"                LegacyFixtureRecord(offset: {offset}, timestampMs: {timestamp}, "
            f"key: {swift_bytes(key)}, value: {swift_bytes(value)}),"
        )
    lines += ["            ]", "        )"]
    return "\n".join(lines)


def main():
    assert kafka_codec.has_snappy() and kafka_codec.has_lz4() and kafka_codec.xxhash is not None, (
        "needs python-snappy, lz4 and xxhash (see the docstring)")
    parse_cases = [
        ("v0-none", "magic 0, uncompressed", 0, 0, build(0, 0)),
        ("v1-none", "magic 1, uncompressed", 1, 0, build(1, 0)),
        ("v0-gzip", "magic 0, gzip wrapper at offset 0", 0, 1, build(0, 1)),
        ("v0-snappy", "magic 0, snappy (xerial) wrapper at offset 0", 0, 2, build(0, 2)),
        ("v0-lz4", "magic 0, lz4 wrapper with Kafka 0.8's broken header checksum", 0, 3, build(0, 3)),
        ("v1-gzip", "magic 1, gzip wrapper at offset 0 (as kafka-python's producer sends it)", 1, 1,
         build(1, 1)),
        ("v1-snappy", "magic 1, snappy (xerial) wrapper at offset 104 (inner offsets relative to 100)", 1, 2,
         build(1, 2, wrapper_offset=104)),
        ("v1-lz4", "magic 1, lz4 wrapper (standard frame) at offset 104", 1, 3, build(1, 3, wrapper_offset=104)),
    ]
    down_converted = [
        ("v0-offset-100", "magic 0, uncompressed, offsets 100-104", 0, 0, build(0, 0, first_offset=100)),
        ("v1-offset-100", "magic 1, uncompressed, offsets 100-104", 1, 0, build(1, 0, first_offset=100)),
    ]
    out = [
        "// Generated by tools/golden/gen_legacy_fixtures.py from kafka-python 3.0.12; do not edit.",
        "",
        "import TernCompression",
        "",
        "/// A legacy message set built by kafka-python's LegacyRecordBatchBuilder, with the messages",
        "/// kafka-python's reader gives back for it.",
        "struct LegacyFixture: Sendable {",
        "    var name: String",
        "    var description: String",
        "    var magic: Int8",
        "    /// The wrapper's codec; `.none` for an uncompressed set.",
        "    var codec: CompressionCodec",
        "    /// The set's bytes as hex, broken over lines (whitespace is not part of it).",
        "    var hex: String",
        "    var records: [LegacyFixtureRecord]",
        "}",
        "",
        "struct LegacyFixtureRecord: Sendable {",
        "    var offset: Int64",
        "    /// -1 for magic 0, which has no timestamps.",
        "    var timestampMs: Int64",
        "    var key: String?",
        "    var value: String?",
        "}",
        "",
        "enum LegacyFixtures {",
        f"    static let baseTimestampMs: Int64 = {BASE_TIMESTAMP_MS}",
        "",
        "    /// (key, value, timestamp) of the records every fixture holds, in order.",
        "    static let records: [(key: String?, value: String?, timestampMs: Int64)] = [",
    ]
    for key, value, timestamp in RECORDS:
        out.append(f"        ({swift_bytes(key)}, {swift_bytes(value)}, {timestamp}),")
    out += [
        "    ]",
        "",
        "    /// Produced sets, one per magic and codec.",
        "    static let produced: [LegacyFixture] = [",
        ",\n".join(fixture(*case) for case in parse_cases) + ",",
        "    ]",
        "",
        "    /// Uncompressed sets with absolute offsets 100-104, as a broker down-converts a v2 batch of",
        "    /// `records` at base offset 100: index 0 is magic 0, index 1 magic 1.",
        "    static let downConverted: [LegacyFixture] = [",
        ",\n".join(fixture(*case) for case in down_converted) + ",",
        "    ]",
        "}",
        "",
    ]
    with open(OUT, "w") as f:
        f.write("\n".join(out))
    # Formatted as the repository's sources are, so a regeneration gives the checked-in file.
    subprocess.run(["swift", "format", "-i", OUT], check=True)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
