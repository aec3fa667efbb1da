"""Drives one Kafka client as a service would, pinned to one protocol baseline, against a broker.

usage: versions.py CLIENT BOOTSTRAP VERSION

CLIENT is kafka-python (VERSION is its api_version, e.g. 0.10.0 or 2.6; "auto" negotiates;
admin calls the pinned release did not have are skipped, as the client refuses them itself),
confluent or aiokafka (VERSION "auto": both always negotiate with ApiVersions).

Each run: create a topic (admin), produce keyed records, consume them in a consumer group and
commit, restart the group and check nothing is read again, list and describe groups, read the
committed offsets, describe the topic's configs, delete the topic. Prints one JSON line with the
protocol versions the client sent (where it can tell) and exits non-zero on the first failure.
"""

import asyncio
import json
import sys
import time
import uuid

RECORDS = 20
PARTITIONS = 3


def fail(step, error):
    print(json.dumps({"ok": False, "step": step, "error": repr(error)}), flush=True)
    sys.exit(1)


def run_kafka_python(bootstrap, version):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

    pinned = None if version == "auto" else tuple(int(p) for p in version.split("."))
    kw = {} if pinned is None else {"api_version": pinned}

    def has(since):
        # Admin calls kafka-python refuses itself below the Kafka release that added the API.
        return pinned is None or pinned >= since

    topic = "kp-" + uuid.uuid4().hex[:8]
    group = "g-" + topic
    step = "admin create"
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, **kw)
        if has((0, 10, 1)):
            admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        step = "produce"
        producer = KafkaProducer(bootstrap_servers=bootstrap, **kw)
        for i in range(RECORDS):
            producer.send(topic, key=b"k%d" % i, value=b"v%d" % i).get(timeout=10)
        producer.close()
        step = "consume"
        consumer = KafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
            enable_auto_commit=False, consumer_timeout_ms=10000, **kw)
        values = sorted(m.value for m in consumer)
        if values != sorted(b"v%d" % i for i in range(RECORDS)):
            raise AssertionError("consumed %r" % values)
        step = "commit"
        consumer.commit()
        consumer.close()
        step = "restart group"
        consumer = KafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
            consumer_timeout_ms=3000, **kw)
        again = [m for m in consumer]
        consumer.close()
        if again:
            raise AssertionError("%d records read again after the commit" % len(again))
        step = "list groups"
        groups = [g["group_id"] if isinstance(g, dict) else g[0] for g in admin.list_groups()]
        if group not in groups:
            raise AssertionError("group %s not listed in %r" % (group, groups))
        step = "describe groups"
        admin.describe_groups([group])
        step = "group offsets"
        if has((0, 10, 2)):
            offsets = admin.list_group_offsets(group)
            offsets = offsets.get(group, offsets)
            total = sum(meta.offset for meta in offsets.values())
            if total != RECORDS:
                raise AssertionError("committed offsets sum to %d, not %d" % (total, RECORDS))
        step = "describe configs"
        if has((0, 11)):
            admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        step = "delete"
        if has((0, 10, 1)):
            admin.delete_topics([topic])
        admin.close()
    except Exception as error:  # noqa: BLE001 - reported as the failing step
        fail(step, error)
    print(json.dumps({"ok": True, "client": "kafka-python", "version": version}), flush=True)


def run_confluent(bootstrap, version):
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

    # librdkafka 2.x always negotiates with ApiVersions, so only "auto" is meaningful.
    conf = {"bootstrap.servers": bootstrap, "debug": "protocol"}
    sent = set()

    def log(record):
        message = record.getMessage()
        if " Sent " in message and "Request (v" in message:
            name = message.split(" Sent ")[1].split(" ")[0]
            sent.add(name + " v" + message.split("Request (v")[1].split(",")[0])

    import logging
    logger = logging.getLogger("rdkafka")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(type("H", (logging.Handler,), {"emit": lambda self, r: log(r)})())
    topic = "ck-" + uuid.uuid4().hex[:8]
    group = "g-" + topic
    step = "admin create"
    try:
        admin = AdminClient(conf, logger=logger)
        for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
            future.result()
        step = "produce"
        producer = Producer(conf, logger=logger)
        errors = []
        for i in range(RECORDS):
            producer.produce(topic, key=b"k%d" % i, value=b"v%d" % i,
                             on_delivery=lambda err, msg: err and errors.append(err))
        if producer.flush(15) != 0 or errors:
            raise AssertionError("undelivered: %r" % errors)
        step = "consume"
        consumer_conf = dict(conf, **{"group.id": group, "auto.offset.reset": "earliest",
                                      "enable.auto.commit": False})
        consumer = Consumer(consumer_conf, logger=logger)
        consumer.subscribe([topic])
        values = []
        deadline = time.time() + 30
        while len(values) < RECORDS and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                raise AssertionError(str(message.error()))
            values.append(message.value())
        if sorted(values) != sorted(b"v%d" % i for i in range(RECORDS)):
            raise AssertionError("consumed %r" % values)
        step = "commit"
        consumer.commit(asynchronous=False)
        consumer.close()
        step = "restart group"
        consumer = Consumer(consumer_conf, logger=logger)
        consumer.subscribe([topic])
        again = []
        deadline = time.time() + 6
        while time.time() < deadline:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                again.append(message)
        consumer.close()
        if again:
            raise AssertionError("%d records read again after the commit" % len(again))
        step = "list groups"
        listed = admin.list_consumer_groups().result()
        if group not in [g.group_id for g in listed.valid]:
            raise AssertionError("group %s not listed" % group)
        step = "describe groups"
        for future in admin.describe_consumer_groups([group]).values():
            future.result()
        step = "describe configs"
        for future in admin.describe_configs([ConfigResource("topic", topic)]).values():
            future.result()
        step = "delete"
        for future in admin.delete_topics([topic]).values():
            future.result()
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    print(json.dumps({"ok": True, "client": "confluent", "version": version, "sent": sorted(sent)}),
          flush=True)


async def run_aiokafka(bootstrap, version):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    kw = {}
    topic = "ak-" + uuid.uuid4().hex[:8]
    group = "g-" + topic
    step = "admin create"
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kw)
        await admin.start()
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        step = "produce"
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kw)
        await producer.start()
        for i in range(RECORDS):
            await producer.send_and_wait(topic, key=b"k%d" % i, value=b"v%d" % i)
        await producer.stop()
        step = "consume"
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                    auto_offset_reset="earliest", enable_auto_commit=False, **kw)
        await consumer.start()
        values = []
        deadline = time.time() + 30
        while len(values) < RECORDS and time.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                values.extend(m.value for m in messages)
        if sorted(values) != sorted(b"v%d" % i for i in range(RECORDS)):
            raise AssertionError("consumed %r" % values)
        step = "commit"
        await consumer.commit()
        await consumer.stop()
        step = "restart group"
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                    auto_offset_reset="earliest", **kw)
        await consumer.start()
        batch = await consumer.getmany(timeout_ms=3000)
        await consumer.stop()
        again = sum(len(messages) for messages in batch.values())
        if again:
            raise AssertionError("%d records read again after the commit" % again)
        step = "list groups"
        groups = await admin.list_consumer_groups()
        if group not in [g[0] for g in groups]:
            raise AssertionError("group %s not listed in %r" % (group, groups))
        step = "delete"
        await admin.delete_topics([topic])
        await admin.close()
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    print(json.dumps({"ok": True, "client": "aiokafka", "version": version}), flush=True)


def main():
    client, bootstrap, version = sys.argv[1:4]
    if client == "kafka-python":
        run_kafka_python(bootstrap, version)
    elif client == "confluent":
        run_confluent(bootstrap, version)
    elif client == "aiokafka":
        asyncio.run(run_aiokafka(bootstrap, version))
    else:
        fail("arguments", ValueError("unknown client " + client))


if __name__ == "__main__":
    main()
