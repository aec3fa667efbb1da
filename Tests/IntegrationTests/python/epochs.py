"""Leader epochs from real clients (KIP-320 position validation); started by the Swift
integration tests.

usage: epochs.py confluent BOOTSTRAP TOPIC
  Produces 10 records to partition 0, consumes the first and checks its leader epoch is 0, then
  seeks with leader epoch 0 to offset 4, which librdkafka validates with OffsetForLeaderEpoch
  before fetching (the next record is offset 4), and to offset 50, past the end of epoch 0 here:
  OffsetForLeaderEpoch answers end offset 10 and librdkafka moves the position to 10 (log
  truncation), where the next record produced is read.
Prints one JSON line with what it saw; exits non-zero on any mismatch.
"""
import json
import sys
import time


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def confluent(bootstrap, topic):
    from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(10):
        producer.produce(topic, value=b"v%d" % i, partition=0)
    if producer.flush(30) != 0:
        fail("records not delivered")

    stats = {}

    def remember(text):
        partition = json.loads(text).get("topics", {}).get(topic, {}).get("partitions", {}).get("0")
        if partition:
            stats.update(partition)

    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": "epochs-" + topic, "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "statistics.interval.ms": 100, "stats_cb": remember,
    })
    consumer.assign([TopicPartition(topic, 0, 0)])

    def next_event(what):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None:
                return message
        fail("nothing arrived while waiting for %s" % what)

    def next_record(what):
        message = next_event(what)
        if message.error():
            fail("%s: %s" % (what, message.error()))
        return message

    first = next_record("the first record")
    if first.offset() != 0 or first.leader_epoch() != 0:
        fail("first record: offset %s leader epoch %s" % (first.offset(), first.leader_epoch()))

    consumer.seek(TopicPartition(topic, 0, 4, leader_epoch=0))
    validated = next_record("the record after a validated seek")
    if validated.offset() != 4 or validated.value() != b"v4":
        fail("after seeking to 4 in epoch 0: offset %s value %r" % (validated.offset(), validated.value()))

    # Past the end of epoch 0 (log end 10): OffsetForLeaderEpoch answers end offset 10 and
    # librdkafka moves the position there. Without the check the fetch at 50 would be out of range
    # and auto.offset.reset would restart at 0.
    consumer.seek(TopicPartition(topic, 0, 50, leader_epoch=0))
    # librdkafka's statistics show where it fetches next once the validation is done.
    stats.clear()
    deadline = time.monotonic() + 30
    while not (stats.get("fetch_state") == "active" and stats.get("next_offset") == 10):
        if time.monotonic() > deadline:
            fail("after seeking past the end of epoch 0: fetch state %s, next offset %s"
                 % (stats.get("fetch_state"), stats.get("next_offset")))
        message = consumer.poll(0.1)
        if message is not None:
            fail("after seeking to 50: %s at offset %s" % (message.error(), message.offset()))
    producer.produce(topic, value=b"v10", partition=0)
    producer.flush(30)
    truncated = next_record("the record at the end of epoch 0")
    if truncated.offset() != 10 or truncated.value() != b"v10" or truncated.leader_epoch() != 0:
        fail("after the truncation: offset %s value %r" % (truncated.offset(), truncated.value()))
    consumer.close()
    print(json.dumps({
        "first": [first.offset(), first.leader_epoch()], "validated": validated.offset(),
        "truncated_to": truncated.offset(),
    }))


if __name__ == "__main__":
    client, bootstrap, topic = sys.argv[1:4]
    {"confluent": confluent}[client](bootstrap, topic)
