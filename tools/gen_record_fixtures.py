#!/usr/bin/env python3
"""Prints v2 record batches built by kafka-python as hex, for Tests/TernRecordsTests.

Run with the repository's venv (kafka-python):  .venv/bin/python tools/gen_record_fixtures.py
The output is pasted into Tests/TernRecordsTests/GoldenBatchTests.swift; the parameters below are
repeated there so the Swift builder can be checked to produce the same bytes.
"""

import gzip
import time
from unittest import mock

from kafka.record.default_records import DefaultRecordBatchBuilder

BASE_TIMESTAMP_MS = 1_700_000_000_000

# (offset, timestamp ms, key, value, headers)
PLAIN_RECORDS = [
    (0, BASE_TIMESTAMP_MS, b"key-0", b"value-0", [("trace", b"abc"), ("null-header", None)]),
    (1, BASE_TIMESTAMP_MS - 5, None, b"negative timestamp delta", []),
    (2, BASE_TIMESTAMP_MS + 300, b"", None, []),
    (3, BASE_TIMESTAMP_MS + 70, b"k", b"", []),
]

# Compressible values so kafka-python keeps the compressed form (it sends uncompressed otherwise).
GZIP_RECORDS = [
    (i, BASE_TIMESTAMP_MS + i, b"key-%d" % i, b"gzip value " * 20 + b"%d" % i, [("n", b"%d" % i)])
    for i in range(5)
]


def build(codec, records, *, producer_id, producer_epoch, base_sequence, transactional):
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=codec,
        is_transactional=transactional,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
        batch_size=1 << 20,
    )
    for offset, timestamp, key, value, headers in records:
        assert builder.append(offset, timestamp, key, value, headers) is not None
    return bytes(builder.build())


def main():
    plain = build(0, PLAIN_RECORDS, producer_id=1234, producer_epoch=5, base_sequence=42, transactional=False)
    # gzip writes the current time into its header; pin it so the output is reproducible.
    with mock.patch.object(gzip.time, "time", return_value=0.0):
        gzipped = build(1, GZIP_RECORDS, producer_id=-1, producer_epoch=-1, base_sequence=-1, transactional=True)
    assert gzipped[22] & 0x07 == 1, "kafka-python fell back to an uncompressed batch"
    print("plain:", plain.hex())
    print("gzip:", gzipped.hex())


if __name__ == "__main__":
    main()
