"""Drives one Kafka client's describe APIs against a broker: DescribeLogDirs, DescribeTopicPartitions,
DescribeProducers, ListPartitionReassignments, ElectLeaders and DescribeClientQuotas, the good cases
and the refusals, checked against what the broker's data directory holds.

usage: describe.py CLIENT BOOTSTRAP DATA_DIR

CLIENT is kafka-python (KafkaAdminClient: every API above) or confluent (confluent-kafka's
AdminClient, librdkafka: elect_leaders, the only one of them librdkafka has).

Prints one JSON line and exits non-zero on the first failure.
"""

import json
import os
import sys
import time
import uuid

NODE_ID = 0
RECORDS = 5

UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_REQUEST = 42
UNSUPPORTED_VERSION = 35
ELECTION_NOT_NEEDED = 84
# READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS: Kafka without an authorizer.
TOPIC_OPERATIONS = sum(1 << op for op in (3, 4, 5, 6, 7, 8, 10, 11))


def fail(step, error):
    print(json.dumps({"ok": False, "step": step, "error": repr(error)}), flush=True)
    sys.exit(1)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def segment_bytes(data_dir, topic, partition):
    """The bytes of the partition's segment files (*.log), read from disk, not from the broker."""
    directory = os.path.join(data_dir, "%s-%d" % (topic, partition))
    return sum(os.path.getsize(os.path.join(directory, name))
               for name in os.listdir(directory) if name.endswith(".log"))


def run_kafka_python(bootstrap, data_dir):
    from kafka import KafkaAdminClient, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    from kafka.protocol.admin.client_quotas import DescribeClientQuotasRequest
    import kafka.errors as Errors

    topic = "dsc-kp-" + uuid.uuid4().hex[:8]
    missing = "missing-" + topic
    result = {}
    step = "create topic"
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic(topic, 3, 1)])

        step = "idempotent produce"
        before_ms = int(time.time() * 1000)
        producer = KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=0)
        for i in range(RECORDS):
            producer.send(topic, value=b"value-%d" % i, partition=0).get(timeout=10)
        producer.flush()
        after_ms = int(time.time() * 1000)

        step = "describe log dirs"
        described = admin.describe_log_dirs({topic: [0, 1, 2]})
        check(len(described) == 1 and described[0]["broker"] == NODE_ID, "brokers %r" % described)
        log_dirs = described[0]["log_dirs"]
        check(len(log_dirs) == 1, "log dirs %r" % log_dirs)
        log_dir = log_dirs[0]
        check(log_dir["error_code"] == 0, "log dir %r" % log_dir)
        check(log_dir["log_dir"] == os.path.abspath(data_dir), "log dir %r, data dir %s" % (log_dir, data_dir))
        check([t["name"] for t in log_dir["topics"]] == [topic], "topics %r" % log_dir["topics"])
        partitions = {p["partition_index"]: p for p in log_dir["topics"][0]["partitions"]}
        check(sorted(partitions) == [0, 1, 2], "partitions %r" % partitions)
        for index, partition in partitions.items():
            check(partition["partition_size"] == segment_bytes(data_dir, topic, index),
                  "partition %d: %r, on disk %d" % (index, partition, segment_bytes(data_dir, topic, index)))
            check(partition["offset_lag"] == 0 and partition["is_future_key"] is False, "partition %r" % partition)
        check(partitions[0]["partition_size"] > 0 and partitions[1]["partition_size"] == 0, "sizes %r" % partitions)
        volume = os.statvfs(data_dir)
        check(log_dir["total_bytes"] == volume.f_blocks * volume.f_frsize, "total bytes %r" % log_dir)
        check(0 < log_dir["usable_bytes"] <= log_dir["total_bytes"], "usable bytes %r" % log_dir)
        result["log_dir_sizes"] = [partitions[i]["partition_size"] for i in range(3)]

        step = "describe log dirs, unknown topics and partitions"
        unknown = admin.describe_log_dirs({missing: [0], topic: [7]})[0]["log_dirs"][0]
        check(unknown["topics"] == [], "unknown topics are not omitted: %r" % unknown)
        result["log_dirs_unknown_omitted"] = True
        step = "describe log dirs, all"
        every = admin.describe_log_dirs()[0]["log_dirs"][0]
        names = [t["name"] for t in every["topics"]]
        check(topic in names and "__consumer_offsets" in names, "all topics %r" % names)

        step = "describe topic partitions, paginated"
        first = admin.describe_topic_partitions([topic], response_partition_limit=2)
        check(len(first["topics"]) == 1, "first page %r" % first)
        page = first["topics"][0]
        check(page["error_code"] == 0 and page["name"] == topic and page["is_internal"] is False, "page %r" % page)
        check([p["partition_index"] for p in page["partitions"]] == [0, 1], "first page %r" % page)
        for partition in page["partitions"]:
            check(partition["leader_id"] == NODE_ID and partition["leader_epoch"] == 0, "partition %r" % partition)
            check(partition["replica_nodes"] == [NODE_ID] and partition["isr_nodes"] == [NODE_ID],
                  "partition %r" % partition)
            # kafka-python's admin turns an empty list into None (the exact bytes are checked in Swift).
            check(partition["eligible_leader_replicas"] in ([], None) and partition["last_known_elr"] in ([], None),
                  "partition %r" % partition)
        check(page["topic_authorized_operations"] == TOPIC_OPERATIONS, "operations %r" % page)
        check(first["next_cursor"] == {"topic_name": topic, "partition_index": 2}, "cursor %r" % first)
        second = admin.describe_topic_partitions([topic], response_partition_limit=2, cursor=first["next_cursor"])
        check([p["partition_index"] for p in second["topics"][0]["partitions"]] == [2], "second page %r" % second)
        check(second["next_cursor"] is None, "cursor after the last page %r" % second)
        topic_ids = {t["name"]: t["topic_id"] for t in admin.describe_topics([topic])}
        check(str(page["topic_id"]) == str(topic_ids[topic]), "topic id %r, Metadata's %r" % (page, topic_ids))
        step = "describe topic partitions, unknown topic"
        unknown = admin.describe_topic_partitions([missing])["topics"]
        check([(t["name"], t["error_code"]) for t in unknown] == [(missing, UNKNOWN_TOPIC_OR_PARTITION)],
              "unknown topic %r" % unknown)
        result["describe_partitions_unknown_topic"] = UNKNOWN_TOPIC_OR_PARTITION
        step = "describe topic partitions, cursor not in the topic list"
        bad = admin.describe_topic_partitions([topic], cursor={"topic_name": missing, "partition_index": 0})
        check([t["error_code"] for t in bad["topics"]] == [INVALID_REQUEST], "bad cursor %r" % bad)
        result["describe_partitions_bad_cursor"] = INVALID_REQUEST

        step = "describe producers"
        producers = admin.describe_producers([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        active = producers[TopicPartition(topic, 0)].active_producers
        check(len(active) == 1, "producers %r" % producers)
        state = active[0]
        check(state.producer_id >= 0 and state.producer_epoch == 0, "state %r" % (state,))
        check(state.last_sequence == RECORDS - 1, "last sequence %r" % (state,))
        check(before_ms <= state.last_timestamp <= after_ms, "last timestamp %r not in [%d, %d]"
              % (state, before_ms, after_ms))
        check(state.coordinator_epoch == -1 and state.current_transaction_start_offset == -1, "state %r" % (state,))
        check(producers[TopicPartition(topic, 1)].active_producers == [], "partition 1 %r" % producers)
        step = "describe producers, unknown partition"
        try:
            admin.describe_producers([TopicPartition(topic, 9)], broker_id=NODE_ID)
            raise AssertionError("an unknown partition was described")
        except Errors.UnknownTopicOrPartitionError as error:
            result["describe_producers_unknown"] = type(error).__name__
        producer.close()

        step = "list partition reassignments"
        check(admin.list_partition_reassignments() == {}, "reassignments")
        check(admin.list_partition_reassignments({topic: [0, 1], missing: [0]}) == {},
              "reassignments of named partitions")
        result["reassignments"] = {}

        step = "elect leaders"
        for election_type in (0, 1):
            response = admin.elect_leaders(election_type, {topic: [0, 1]}, raise_errors=False)
            check(response.error_code == 0, "elect %r" % response)
            codes = [(r.topic, p.partition_id, p.error_code)
                     for r in response.replica_election_results for p in r.partition_result]
            check(codes == [(topic, 0, ELECTION_NOT_NEEDED), (topic, 1, ELECTION_NOT_NEEDED)], "elect %r" % codes)
        # kafka-python lists every partition itself for None (null is sent by confluent and the Swift test).
        everything = admin.elect_leaders(0, None, raise_errors=False)
        codes = {(r.topic, p.error_code) for r in everything.replica_election_results for p in r.partition_result}
        check(everything.error_code == 0 and {code for _, code in codes} == {ELECTION_NOT_NEEDED}
              and {topic, "__consumer_offsets"} <= {name for name, _ in codes}, "elect all %r" % everything)
        step = "elect leaders, unknown topic and partition"
        response = admin.elect_leaders(0, {missing: [0], topic: [9]}, raise_errors=False)
        codes = sorted((r.topic, p.partition_id, p.error_code)
                       for r in response.replica_election_results for p in r.partition_result)
        check(codes == sorted([(missing, 0, UNKNOWN_TOPIC_OR_PARTITION), (topic, 9, UNKNOWN_TOPIC_OR_PARTITION)]),
              "elect unknown %r" % codes)
        result["elect_unknown"] = UNKNOWN_TOPIC_OR_PARTITION

        step = "describe client quotas"
        Component = DescribeClientQuotasRequest.ComponentData

        def quotas(components, strict=False):
            async def send():
                return await admin._manager.send(
                    DescribeClientQuotasRequest(components=components, strict=strict), node_id=NODE_ID)
            return admin._manager.run(send)

        response = quotas([Component(entity_type="user", match_type=0, match="alice"),
                           Component(entity_type="client-id", match_type=2, match=None)])
        check(response.error_code == 0 and response.entries == [], "quotas %r" % response)
        check(quotas([]).entries == [], "all quotas")
        step = "describe client quotas, bad filters"
        for components, code in [
            ([Component(entity_type="user", match_type=7, match=None)], INVALID_REQUEST),
            ([Component(entity_type="user", match_type=1, match=None)] * 2, INVALID_REQUEST),
            ([Component(entity_type="ip", match_type=2, match=None),
              Component(entity_type="user", match_type=2, match=None)], INVALID_REQUEST),
            ([Component(entity_type="tenant", match_type=2, match=None)], UNSUPPORTED_VERSION),
        ]:
            refused = quotas(components)
            check(refused.error_code == code and refused.error_message and refused.entries is None,
                  "quotas %r: %r" % (components, refused))
        result["quota_refusals"] = [INVALID_REQUEST, UNSUPPORTED_VERSION]
        admin.close()
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    result["ok"] = True
    print(json.dumps(result), flush=True)


def run_confluent(bootstrap):
    from confluent_kafka import ElectionType, KafkaException, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = "dsc-ck-" + uuid.uuid4().hex[:8]
    result = {}
    step = "create topic"
    try:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(10)

        step = "elect leaders"
        for election_type in (ElectionType.PREFERRED, ElectionType.UNCLEAN):
            elected = admin.elect_leaders(election_type, [TopicPartition(topic, 0), TopicPartition(topic, 1)])
            partitions = elected.result(10)
            codes = sorted((tp.partition, error.code() if error else 0) for tp, error in partitions.items())
            check(codes == [(0, ELECTION_NOT_NEEDED), (1, ELECTION_NOT_NEEDED)], "elect %r" % partitions)
        step = "elect leaders, all partitions"
        check(admin.elect_leaders(ElectionType.PREFERRED, None).result(10) == {}, "elect all")
        step = "elect leaders, unknown topic and partition"
        missing = TopicPartition("missing-" + topic, 0)
        elected = admin.elect_leaders(ElectionType.PREFERRED, [missing, TopicPartition(topic, 9)]).result(10)
        codes = sorted((tp.topic, tp.partition, error.code() if error else 0) for tp, error in elected.items())
        check(codes == sorted([(missing.topic, 0, UNKNOWN_TOPIC_OR_PARTITION), (topic, 9, UNKNOWN_TOPIC_OR_PARTITION)]),
              "elect unknown %r" % codes)
        result["elect_unknown"] = UNKNOWN_TOPIC_OR_PARTITION
    except KafkaException as error:
        fail(step, error)
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    result["ok"] = True
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    client, bootstrap, data_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    if client == "kafka-python":
        run_kafka_python(bootstrap, data_dir)
    elif client == "confluent":
        run_confluent(bootstrap)
    else:
        fail("arguments", "unknown client " + client)
