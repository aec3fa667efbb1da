"""confluent-kafka (librdkafka) on the other side of Tern's Swift client; started by the Swift tests.

usage: interop.py produce BOOTSTRAP TOPIC COUNT CODEC   produce record(i) for i < COUNT to partition 0
       interop.py consume BOOTSTRAP TOPIC COUNT         read partition 0 from the beginning, COUNT records,
                                                        and check each against record(i)
record(i): key b"key-<i>", value 0..255 repeated (i % 300 bytes, starting at i % 256), headers
[("seq", b"<i>"), ("bin", b"\\x00\\xff<i % 256>")]; the Swift tests build the same records.
Prints one JSON line; exits non-zero on any mismatch.
"""
import json
import sys

from confluent_kafka import Consumer, Producer, TopicPartition


def record(i):
    value = bytes((i + j) % 256 for j in range(i % 300))
    return b"key-%d" % i, value, [("seq", b"%d" % i), ("bin", bytes([0, 255, i % 256]))]


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def produce(bootstrap, topic, count, codec):
    producer = Producer({"bootstrap.servers": bootstrap, "compression.codec": codec, "linger.ms": 5})
    errors = []

    def delivered(error, message):
        if error is not None:
            errors.append(str(error))

    for i in range(count):
        key, value, headers = record(i)
        producer.produce(topic, value=value, key=key, headers=headers, partition=0, on_delivery=delivered)
        producer.poll(0)
    if producer.flush(30) != 0 or errors:
        fail("delivery failed: %s" % errors[:3])
    print(json.dumps({"produced": count}))


def consume(bootstrap, topic, count):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "interop", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    seen = 0
    while seen < count:
        message = consumer.poll(30)
        if message is None:
            fail("timed out after %d records" % seen)
        if message.error():
            fail(str(message.error()))
        key, value, headers = record(seen)
        got = (message.key(), message.value(), [(k, v) for k, v in (message.headers() or [])])
        if got != (key, value, headers) or message.offset() != seen:
            fail("record %d differs: %r at offset %d" % (seen, got[:1], message.offset()))
        seen += 1
    consumer.close()
    print(json.dumps({"consumed": seen}))


def main():
    action, bootstrap, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if action == "produce":
        produce(bootstrap, topic, count, sys.argv[5])
    elif action == "consume":
        consume(bootstrap, topic, count)
    else:
        fail("unknown action " + action)


if __name__ == "__main__":
    main()
