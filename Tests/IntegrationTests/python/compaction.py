"""Log compaction seen by kafka-python: a compacted topic with small segments gets overwrites and
tombstones from an idempotent producer, the broker's cleaner compacts it, and a consumer reading
from the beginning sees exactly the latest value per key, tombstones until delete.retention.ms and
then none, offsets increasing. The same idempotent producer keeps producing across cleanings. A
keyless record is refused with INVALID_RECORD.

usage: compaction.py BOOTSTRAP
Prints one JSON line and exits non-zero on the first failure. Every wait is bounded.
"""

import json
import sys
import time
import uuid

KEYS = [f"k{index}" for index in range(20)]
TOMBSTONED = KEYS[:5]
DELETE_RETENTION_MS = 3000
SEGMENT_MS = 400


def fail(step, error, **details):
    print(json.dumps({"ok": False, "step": step, "error": repr(error), **details}), flush=True)
    sys.exit(1)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def read_all(bootstrap, topic):
    """Every record from the log start to the end offset: [(offset, key, value)]."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=3000)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    end = consumer.end_offsets([partition])[partition]
    records = []
    deadline = time.monotonic() + 20
    while consumer.position(partition) < end and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=1000).values():
            for message in batch:
                key = message.key.decode() if message.key is not None else None
                value = message.value.decode() if message.value is not None else None
                records.append((message.offset, key, value))
    consumer.close()
    check(records and records[-1][0] == end - 1, f"read stopped before the end offset {end}")
    return records


def wait_until(description, condition, timeout_s):
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting until {description}")
        time.sleep(0.3)


def main():
    bootstrap = sys.argv[1]
    from kafka import KafkaAdminClient, KafkaProducer
    from kafka.admin import NewTopic
    import kafka.errors as Errors

    topic = f"compacted-{uuid.uuid4().hex[:8]}"
    result = {"topic": topic}
    step = "create"
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic(topic, 1, 1, topic_configs={
            "cleanup.policy": "compact", "segment.ms": str(SEGMENT_MS), "segment.bytes": "4096",
            "delete.retention.ms": str(DELETE_RETENTION_MS), "min.cleanable.dirty.ratio": "0.01",
        })])
        admin.close()

        step = "keyless"
        plain = KafkaProducer(bootstrap_servers=bootstrap, retries=0)
        try:
            plain.send(topic, value=b"no key").get(timeout=10)
            raise AssertionError("a keyless record was accepted by a compacted topic")
        except Errors.InvalidRecordError:
            result["keyless_refused"] = True
        plain.close()

        step = "produce"
        producer = KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                 linger_ms=5)
        latest = {}

        def produce_round(label):
            for key in KEYS:
                value = f"{key}-{label}"
                producer.send(topic, key=key.encode(), value=value.encode())
                latest[key] = value
            producer.flush(timeout=10)
            time.sleep(SEGMENT_MS / 1000 + 0.05)  # the next append rolls the segment

        for round_number in range(6):
            produce_round(f"r{round_number}")
        for key in TOMBSTONED:
            producer.send(topic, key=key.encode(), value=None)
            latest[key] = None
        producer.flush(timeout=10)
        time.sleep(SEGMENT_MS / 1000 + 0.05)
        # A last record in the active segment, so everything before it is cleanable.
        producer.send(topic, key=b"roll-1", value=b"roll").get(timeout=10)
        latest["roll-1"] = "roll"

        def compacted():
            # Polled while the cleaner runs: every read, cleaned or not, has increasing offsets
            # and every key (no key vanishes before its tombstone's delete.retention.ms).
            records = read_all(bootstrap, topic)
            offsets = [offset for offset, _, _ in records]
            check(offsets == sorted(set(offsets)), f"a read during cleaning has offsets out of order: {offsets}")
            keys = [key for _, key, _ in records]
            check(set(KEYS) <= set(keys), f"a read during cleaning misses keys {set(KEYS) - set(keys)}")
            result["reads_during_cleaning"] = result.get("reads_during_cleaning", 0) + 1
            if len(keys) != len(set(keys)):
                return None
            return records

        step = "first-clean"
        records = wait_until("every key appears once", compacted, 30)
        offsets = [offset for offset, _, _ in records]
        check(offsets == sorted(set(offsets)), f"offsets not increasing: {offsets}")
        seen = {key: value for _, key, value in records}
        live = {key: value for key, value in latest.items() if value is not None}
        for key, value in live.items():
            check(seen.get(key) == value, f"{key}: expected {value}, read {seen.get(key)}")
        result["records_after_first_clean"] = len(records)
        result["tombstones_after_first_clean"] = sum(1 for _, _, value in records if value is None)
        first_clean_at = time.monotonic()

        step = "tombstones-expire"
        records = wait_until(
            "the tombstones are gone",
            lambda: (lambda r: r if all(value is not None for _, _, value in r) else None)(read_all(bootstrap, topic)),
            DELETE_RETENTION_MS / 1000 + 30)
        check(result["tombstones_after_first_clean"] == len(TOMBSTONED), "the first clean did not keep the tombstones")
        check(time.monotonic() - first_clean_at >= DELETE_RETENTION_MS / 1000 - 1.5,
              "tombstones went before delete.retention.ms")
        seen = {key: value for _, key, value in records}
        check(seen == live, f"after the tombstones went: {seen} != {live}")
        offsets = [offset for offset, _, _ in records]
        check(offsets == sorted(set(offsets)), f"offsets not increasing: {offsets}")

        step = "idempotent-across-cleaning"
        # The same idempotent producer (same producer id and sequences) keeps producing.
        produce_round("after")
        producer.send(topic, key=b"roll-2", value=b"roll").get(timeout=10)
        latest["roll-2"] = "roll"
        live = {key: value for key, value in latest.items() if value is not None}
        records = wait_until("the new round is compacted", compacted, 30)
        seen = {key: value for _, key, value in records}
        check(seen == live, f"after the second round: {seen} != {live}")
        result["records_at_end"] = len(records)
        result["end_offset"] = records[-1][0] + 1
        producer.close()
    except Exception as error:  # noqa: BLE001 - report any failure as JSON
        fail(step, error, **result)
    print(json.dumps({"ok": True, **result}), flush=True)


if __name__ == "__main__":
    main()
