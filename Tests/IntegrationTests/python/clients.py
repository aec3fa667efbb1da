"""Drives Tern with the real Python Kafka clients; started by the Swift integration tests.

usage: clients.py CLIENT ACTION BOOTSTRAP TOPIC [COUNT]
  CLIENT  kafka-python | confluent
  ACTION  create     create TOPIC with 3 partitions through the admin API, and check a second
                     create fails with TOPIC_ALREADY_EXISTS
          produce    produce COUNT keyed records with headers (record i: key k<i>, value v<i>,
                     header seq=<i>), waiting for every acknowledgement
          consume    consume by assignment (all partitions, from the beginning) until COUNT records
                     arrived, and check every record against what `produce` wrote
          delete     delete TOPIC through the admin API and check it is gone
Prints one JSON line with what it did; exits non-zero on any mismatch.
"""
import json
import sys
import time

PARTITIONS = 3


def record(i):
    return b"k%d" % i, b"v%d-" % i + b"x" * (i % 50), [("seq", b"%d" % i)]


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def check(records, count):
    seen = {}
    for key, value, headers, partition, offset in records:
        i = int(key[1:])
        expected_key, expected_value, expected_headers = record(i)
        if value != expected_value or list(headers) != expected_headers:
            fail("record %d differs: %r %r %r" % (i, key, value, headers))
        if i in seen:
            fail("record %d consumed twice" % i)
        seen[i] = (partition, offset)
    if sorted(seen) != list(range(count)):
        fail("missing records: %s" % sorted(set(range(count)) - set(seen))[:10])
    # Within a partition a producer's records keep their order.
    by_partition = {}
    for i in range(count):
        partition, offset = seen[i]
        by_partition.setdefault(partition, []).append(offset)
    for offsets in by_partition.values():
        if offsets != sorted(offsets):
            fail("records out of order within a partition")
    return by_partition


def kafka_python(action, bootstrap, topic, count):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    if action == "create":
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        try:
            admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
            fail("second create succeeded")
        except TopicAlreadyExistsError:
            pass
        if topic not in admin.list_topics():
            fail("created topic not listed")
        admin.close()
        return {"created": topic}
    if action == "delete":
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.delete_topics([topic])
        for _ in range(50):
            if topic not in admin.list_topics():
                break
            time.sleep(0.1)
        else:
            fail("deleted topic still listed")
        admin.close()
        return {"deleted": topic}
    if action == "produce":
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, batch_size=64 * 1024, acks="all")
        futures = []
        for i in range(count):
            key, value, headers = record(i)
            futures.append(producer.send(topic, key=key, value=value, headers=headers))
        producer.flush()
        offsets = [f.get(timeout=30) for f in futures]
        producer.close()
        return {"produced": len(offsets)}
    if action == "consume":
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records = []
        deadline = time.time() + 120
        while len(records) < count and time.time() < deadline:
            for tp, batch in consumer.poll(timeout_ms=1000, max_records=50000).items():
                for r in batch:
                    records.append((r.key, r.value, [(k, v) for k, v in r.headers], tp.partition, r.offset))
        consumer.close()
        check(records, count)
        return {"consumed": len(records)}
    fail("unknown action " + action)


def confluent(action, bootstrap, topic, count):
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    if action in ("create", "delete"):
        admin = AdminClient({"bootstrap.servers": bootstrap})
        if action == "create":
            admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(30)
            try:
                admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(30)
                fail("second create succeeded")
            except KafkaException as error:
                if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    fail("unexpected error %s" % error)
            if topic not in admin.list_topics(timeout=10).topics:
                fail("created topic not listed")
            return {"created": topic}
        admin.delete_topics([topic])[topic].result(30)
        for _ in range(50):
            if topic not in admin.list_topics(timeout=10).topics:
                return {"deleted": topic}
            time.sleep(0.1)
        fail("deleted topic still listed")
    if action == "produce":
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all",
                             "enable.idempotence": True, "partitioner": "murmur2_random"})
        errors = []

        def delivered(error, message):
            if error is not None:
                errors.append(error)

        for i in range(count):
            key, value, headers = record(i)
            while True:
                try:
                    producer.produce(topic, key=key, value=value, headers=headers, on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
        if producer.flush(60) != 0 or errors:
            fail("undelivered records: %s" % errors[:5])
        return {"produced": count}
    if action == "consume":
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        records = []
        deadline = time.time() + 120
        while len(records) < count and time.time() < deadline:
            for message in consumer.consume(num_messages=10000, timeout=1.0):
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    fail("consume error %s" % message.error())
                records.append((message.key(), message.value(), message.headers() or [],
                                message.partition(), message.offset()))
        consumer.close()
        check(records, count)
        return {"consumed": len(records)}
    fail("unknown action " + action)


def main():
    client, action, bootstrap, topic = sys.argv[1:5]
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    run = {"kafka-python": kafka_python, "confluent": confluent}[client]
    print(json.dumps(run(action, bootstrap, topic, count)))


if __name__ == "__main__":
    main()
