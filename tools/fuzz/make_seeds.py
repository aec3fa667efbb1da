#!/usr/bin/env python3
"""Writes the fuzz seed corpus (tools/fuzz/corpus/TARGET/) from the test suite's golden fixtures.

  request, frame  every request in Tests/TernWireTests/Golden (kafka-python's encodings), framed with
                  a request header of the version its API calls for (Kafka's JSON schemas say which);
                  frame seeds add the 4-byte size prefix and put two requests in one stream
  batch           the v2 batches of Tests/TernRecordsTests/GoldenBatchTests.swift
  legacy          the magic 0/1 message sets of Tests/TernRecordsTests/LegacyFixtures.swift
  decompress      the foreign-compressed streams of Tests/TernCompressionTests/InteropFixtures.swift
  offsets         the __consumer_offsets keys and values of Tests/TernCoordinatorTests/RecordTests.swift

The segment target's seeds are the files of a real data directory: `TERN_FUZZ_WRITE_SEEDS=DIR` makes
the fuzz binary write them (tools/fuzz.sh does). Each seed's name is a hash of its bytes.

Run:  python3 tools/fuzz/make_seeds.py [SCHEMA_DIR]   (default ../shared/reference/kafka-messages)
"""

import base64
import hashlib
import json
import pathlib
import re
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tools/fuzz/corpus"
TESTS = ROOT / "Tests"


def write_seed(target, data):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


def load_schemas(schema_dir):
    """Request name -> (api key, first flexible version or None)."""
    schemas = {}
    for path in pathlib.Path(schema_dir).glob("*Request.json"):
        text = "\n".join(line for line in path.read_text().splitlines() if not line.strip().startswith("//"))
        schema = json.loads(text)
        flexible = schema.get("flexibleVersions", "none")
        schemas[schema["name"]] = (schema["apiKey"], None if flexible == "none" else int(flexible.rstrip("+")))
    return schemas


def request_header(api_key, version, flexible_from, correlation_id):
    client_id = b"fuzz-seed"
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    if flexible_from is not None and version >= flexible_from:
        header += b"\x00"  # no tagged fields (header v2)
    return header




def request_seeds(schemas):
    frames = []
    pattern = re.compile(r'GoldenCase\(\s*"(\w+Request)", version: (\d+),\s*hex: "([0-9a-f]*)"', re.S)
    for path in sorted((TESTS / "TernWireTests/Golden").glob("*.swift")):
        for name, version, body in pattern.findall(path.read_text()):
            if name not in schemas:
                continue
            api_key, flexible_from = schemas[name]
            frame = request_header(api_key, int(version), flexible_from, len(frames)) + bytes.fromhex(body)
            write_seed("request", frame)
            frames.append(frame)
    for index, frame in enumerate(frames):
        stream = struct.pack(">i", len(frame)) + frame
        following = frames[(index + 1) % len(frames)]
        stream += struct.pack(">i", len(following)) + following
        # The first byte is the frame target's control byte: 0x80 = the default maximum frame size.
        write_seed("frame", bytes([0x80 | index % 128]) + stream)
    return len(frames)


def batch_seeds():
    text = (TESTS / "TernRecordsTests/GoldenBatchTests.swift").read_text()
    batches = []
    for match in re.finditer(r'static let \w+Hex =\s*((?:"[0-9a-f]*"\s*\+?\s*)+)', text):
        batches.append(bytes.fromhex("".join(re.findall(r'"([0-9a-f]*)"', match.group(1)))))
    for control in (0, 1, 2):
        for batch in batches:
            write_seed("batch", bytes([control]) + batch)
        write_seed("batch", bytes([control]) + b"".join(batches))
    return len(batches)


def legacy_seeds():
    text = (TESTS / "TernRecordsTests/LegacyFixtures.swift").read_text()
    sets = [bytes.fromhex("".join(block.split())) for block in re.findall(r'hex: """(.*?)"""', text, re.S)]
    for index, message_set in enumerate(sets):
        write_seed("legacy", bytes([index % 5]) + message_set)
    return len(sets)


def decompress_seeds():
    text = (TESTS / "TernCompressionTests/InteropFixtures.swift").read_text()
    # The control byte's codec index (modulo 4) as the fuzz target reads it.
    codec_index = {"gzip": 0, "snappy": 1, "lz4": 2, "zstd": 3}
    count = 0
    for name, encoded in re.findall(r'name: "(\w+)",.*?base64: """(.*?)"""', text, re.S):
        codec = next(index for prefix, index in codec_index.items() if name.startswith(prefix))
        write_seed("decompress", bytes([codec]) + base64.b64decode("".join(encoded.split())))
        count += 1
    return count


def offsets_seeds():
    text = (TESTS / "TernCoordinatorTests/RecordTests.swift").read_text()
    blobs = [bytes.fromhex("".join(part.split())) for part in re.findall(r'hex\(\s*"([0-9a-f ]+)"', text)]
    keys = [blob for blob in blobs if blob[:2] in (b"\x00\x00", b"\x00\x01", b"\x00\x02") and len(blob) < 24]
    values = [blob for blob in blobs if blob not in keys]

    def record(key, value):
        encoded_value = struct.pack(">i", -1) if value is None else struct.pack(">i", len(value)) + value
        return struct.pack(">H", len(key)) + key + encoded_value

    count = 0
    for key in keys:
        for value in values + [None]:
            write_seed("offsets", record(key, value))
            count += 1
    write_seed("offsets", b"".join(record(key, value) for key in keys for value in values))
    return count


def main():
    schema_dir = sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared/reference/kafka-messages"
    if not pathlib.Path(schema_dir).is_dir():
        sys.exit(f"Kafka's JSON schemas are not at {schema_dir}: pass their directory")
    counts = {
        "request/frame": request_seeds(load_schemas(schema_dir)),
        "batch": batch_seeds(),
        "legacy": legacy_seeds(),
        "decompress": decompress_seeds(),
        "offsets": offsets_seeds(),
    }
    print(", ".join(f"{target}: {count} fixtures" for target, count in counts.items()))


if __name__ == "__main__":
    main()
