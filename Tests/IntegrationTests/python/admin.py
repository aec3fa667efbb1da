"""Drives one Kafka client's admin API against a broker: CreatePartitions, DeleteRecords and
DescribeCluster, the good cases and the refusals.

usage: admin.py CLIENT BOOTSTRAP

CLIENT is kafka-python (KafkaAdminClient) or confluent (confluent-kafka's AdminClient, librdkafka).

Each run: create a one-partition topic, grow it to 3 partitions (validate_only first, which must
change nothing), refuse shrinking (INVALID_PARTITIONS) and an unknown topic
(UNKNOWN_TOPIC_OR_PARTITION), produce to the new partition 2 and consume it back, delete records
before offset 2 (low watermark 2, and the consumer's earliest offset follows), refuse an offset
past the high watermark (OFFSET_OUT_OF_RANGE), delete up to the high watermark with -1, refuse an
unknown topic, describe the cluster (one broker, the controller, the cluster id, the authorized
operations). Prints one JSON line and exits non-zero on the first failure.
"""

import json
import sys
import uuid

CLUSTER_ID = "tern-cluster"
NODE_ID = 0
RECORDS = 5

INVALID_PARTITIONS = 37
UNKNOWN_TOPIC_OR_PARTITION = 3
OFFSET_OUT_OF_RANGE = 1


def fail(step, error):
    print(json.dumps({"ok": False, "step": step, "error": repr(error)}), flush=True)
    sys.exit(1)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def run_kafka_python(bootstrap):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    import kafka.errors as Errors

    topic = "adm-kp-" + uuid.uuid4().hex[:8]
    port = int(bootstrap.rsplit(":", 1)[1])
    result = {}
    step = "create topic"
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic(topic, 1, 1)])

        def partition_count():
            described = admin.describe_topics([topic])
            return len(described[0]["partitions"])

        def expect_error(code, call):
            try:
                call()
            except Errors.KafkaError as error:
                check(getattr(error, "errno", None) == code, "expected error %d, got %r" % (code, error))
                return type(error).__name__
            raise AssertionError("expected error %d, got success" % code)

        step = "create partitions, validate only"
        admin.create_partitions({topic: 3}, validate_only=True)
        check(partition_count() == 1, "validate_only changed the topic")
        step = "create partitions"
        response = admin.create_partitions({topic: 3})
        check([r.error_code for r in response.results] == [0], "results %r" % response)
        check(partition_count() == 3, "partitions after growing: %d" % partition_count())
        step = "shrink partitions"
        result["shrink"] = expect_error(INVALID_PARTITIONS, lambda: admin.create_partitions({topic: 2}))
        result["equal"] = expect_error(INVALID_PARTITIONS, lambda: admin.create_partitions({topic: 3}))
        step = "create partitions, unknown topic"
        result["unknown_topic"] = expect_error(
            UNKNOWN_TOPIC_OR_PARTITION, lambda: admin.create_partitions({"missing-" + topic: 2}))

        step = "produce to the new partition"
        producer = KafkaProducer(bootstrap_servers=bootstrap)
        for i in range(RECORDS):
            producer.send(topic, value=b"p2-%d" % i, partition=2).get(timeout=10)
        producer.close()
        step = "consume the new partition"
        tp = TopicPartition(topic, 2)
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=10000)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        values = []
        for message in consumer:
            check(message.partition == 2, "read from partition %d" % message.partition)
            values.append(message.value)
            if len(values) == RECORDS:
                break
        check(values == [b"p2-%d" % i for i in range(RECORDS)], "consumed %r" % values)

        step = "delete records"
        deleted = admin.delete_records({tp: 2})
        check(deleted[tp]["low_watermark"] == 2, "deleted %r" % deleted)
        check(consumer.beginning_offsets([tp]) == {tp: 2}, "beginning offsets %r" % consumer.beginning_offsets([tp]))
        step = "delete records past the high watermark"
        result["past_high_watermark"] = expect_error(OFFSET_OUT_OF_RANGE, lambda: admin.delete_records({tp: 100}))
        step = "delete records up to the high watermark"
        deleted = admin.delete_records({tp: -1})
        check(deleted[tp]["low_watermark"] == RECORDS, "deleted %r" % deleted)
        step = "delete records, unknown topic"
        # Sent to the broker itself (kafka-python refuses topics its metadata lacks before sending).
        result["delete_unknown_topic"] = expect_error(
            UNKNOWN_TOPIC_OR_PARTITION,
            lambda: admin.delete_records({TopicPartition("missing-" + topic, 0): 1}, partition_leader_id=NODE_ID))
        consumer.close()

        step = "describe cluster"
        cluster = admin.describe_cluster()
        check(cluster["cluster_id"] == CLUSTER_ID, "cluster %r" % cluster)
        check(cluster["controller_id"] == NODE_ID, "cluster %r" % cluster)
        check([(b["broker_id"], b["port"]) for b in cluster["brokers"]] == [(NODE_ID, port)], "cluster %r" % cluster)
        operations = cluster.get("authorized_operations", cluster.get("cluster_authorized_operations"))
        result["authorized_operations"] = sorted(str(op) for op in operations) if operations else operations
        check(operations, "no authorized operations in %r" % cluster)
        admin.close()
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    result["ok"] = True
    print(json.dumps(result), flush=True)


def run_confluent(bootstrap):
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AclOperation, AdminClient, NewPartitions, NewTopic

    topic = "adm-ck-" + uuid.uuid4().hex[:8]
    port = int(bootstrap.rsplit(":", 1)[1])
    result = {}
    step = "create topic"
    try:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)

        def partition_count():
            return len(admin.list_topics(topic, timeout=10).topics[topic].partitions)

        def expect_error(code, future):
            try:
                future.result(10)
            except KafkaException as error:
                got = error.args[0].code()
                check(got == code, "expected error %d, got %r" % (code, error))
                return error.args[0].name()
            raise AssertionError("expected error %d, got success" % code)

        step = "create partitions, validate only"
        admin.create_partitions([NewPartitions(topic, 3)], validate_only=True)[topic].result(10)
        check(partition_count() == 1, "validate_only changed the topic")
        step = "create partitions"
        admin.create_partitions([NewPartitions(topic, 3)])[topic].result(10)
        check(partition_count() == 3, "partitions after growing: %d" % partition_count())
        step = "shrink partitions"
        result["shrink"] = expect_error(INVALID_PARTITIONS, admin.create_partitions([NewPartitions(topic, 2)])[topic])
        step = "create partitions, unknown topic"
        missing = "missing-" + topic
        result["unknown_topic"] = expect_error(
            UNKNOWN_TOPIC_OR_PARTITION, admin.create_partitions([NewPartitions(missing, 2)])[missing])

        step = "produce to the new partition"
        producer = Producer({"bootstrap.servers": bootstrap})
        for i in range(RECORDS):
            producer.produce(topic, value=b"p2-%d" % i, partition=2)
        check(producer.flush(10) == 0, "records left unsent")
        step = "consume the new partition"
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "adm-" + topic, "enable.auto.commit": False})
        consumer.assign([TopicPartition(topic, 2, 0)])
        values = []
        for _ in range(100):
            message = consumer.poll(0.2)
            if message is None or message.error():
                continue
            check(message.partition() == 2, "read from partition %d" % message.partition())
            values.append(message.value())
            if len(values) == RECORDS:
                break
        check(values == [b"p2-%d" % i for i in range(RECORDS)], "consumed %r" % values)

        step = "delete records"
        tp = TopicPartition(topic, 2, 2)
        deleted = admin.delete_records([tp])[tp].result(10)
        check(deleted.low_watermark == 2, "deleted %r" % deleted)
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 2), timeout=10)
        check((low, high) == (2, RECORDS), "watermarks %r" % ((low, high),))
        step = "delete records past the high watermark"
        past = TopicPartition(topic, 2, 100)
        result["past_high_watermark"] = expect_error(OFFSET_OUT_OF_RANGE, admin.delete_records([past])[past])
        step = "delete records up to the high watermark"
        end = TopicPartition(topic, 2, -1)
        deleted = admin.delete_records([end])[end].result(10)
        check(deleted.low_watermark == RECORDS, "deleted %r" % deleted)
        step = "delete records, unknown topic"
        # librdkafka looks up each partition's leader first and refuses an unknown topic itself
        # (_NOENT), without sending DeleteRecords: the broker's answer is checked with kafka-python.
        unknown = TopicPartition(missing, 0, 1)
        result["delete_unknown_topic"] = expect_error(KafkaError._NOENT, admin.delete_records([unknown])[unknown])
        consumer.close()

        step = "describe cluster"
        cluster = admin.describe_cluster(include_authorized_operations=True).result(10)
        check(cluster.cluster_id == CLUSTER_ID, "cluster id %r" % cluster.cluster_id)
        check(cluster.controller.id == NODE_ID, "controller %r" % cluster.controller)
        check([(n.id, n.port) for n in cluster.nodes] == [(NODE_ID, port)], "nodes %r" % cluster.nodes)
        operations = cluster.authorized_operations or []
        result["authorized_operations"] = sorted(op.name for op in operations)
        check(AclOperation.DESCRIBE in operations and AclOperation.ALTER in operations, "operations %r" % operations)
        plain = admin.describe_cluster().result(10)
        check(not plain.authorized_operations, "operations without asking: %r" % plain.authorized_operations)
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    result["ok"] = True
    print(json.dumps(result), flush=True)


def main():
    client, bootstrap = sys.argv[1:3]
    if client == "kafka-python":
        run_kafka_python(bootstrap)
    elif client == "confluent":
        run_confluent(bootstrap)
    else:
        fail("arguments", "unknown client %r" % client)


if __name__ == "__main__":
    main()
