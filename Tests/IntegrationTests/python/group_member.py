"""One kafka-python or confluent-kafka (librdkafka) group member for Tern's mixed-group tests.

usage: group_member.py CLIENT BOOTSTRAP GROUP TOPIC ASSIGNOR STATE_FILE SECONDS [RECORDS_FILE]
CLIENT is kafka-python or confluent. Joins GROUP subscribed to TOPIC with ASSIGNOR (range or
roundrobin), and after every poll writes {"member": id, "generation": n, "assigned": [partitions]}
to STATE_FILE (atomically; generation is -1 for confluent, which does not expose it). Leaves the
group and exits when STATE_FILE + ".stop" exists or after SECONDS.
With RECORDS_FILE (kafka-python only) the member reads from the earliest offset, auto-commits
(also on revocation and close) and appends "partition offset key" per record it is given.
"""
import json
import os
import sys
import time

client, bootstrap, group, topic, assignor, state_file, seconds = sys.argv[1:8]
records_file = sys.argv[8] if len(sys.argv) > 8 else None


def write_state(member, generation, assigned):
    with open(state_file + ".tmp", "w") as f:
        json.dump({"member": member, "generation": generation, "assigned": sorted(assigned)}, f)
    os.replace(state_file + ".tmp", state_file)


deadline = time.time() + float(seconds)


def running():
    return time.time() < deadline and not os.path.exists(state_file + ".stop")


if client == "kafka-python":
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

    assignors = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        partition_assignment_strategy=[assignors[assignor]],
        session_timeout_ms=10000,
        heartbeat_interval_ms=200,
        enable_auto_commit=records_file is not None,
        auto_commit_interval_ms=200,
        auto_offset_reset="earliest" if records_file else "latest",
    )
    consumer.subscribe([topic])
    records = open(records_file, "a") if records_file else None
    while running():
        batches = consumer.poll(timeout_ms=100)
        if records:
            for batch in batches.values():
                for record in batch:
                    records.write("%d %d %s\n" % (record.partition, record.offset, record.key.decode()))
            records.flush()
        generation = consumer._coordinator._generation
        write_state(generation.member_id, generation.generation_id, [p.partition for p in consumer.assignment()])
    consumer.close()
elif client == "confluent":
    from confluent_kafka import Consumer

    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "partition.assignment.strategy": assignor,
        "session.timeout.ms": 10000, "heartbeat.interval.ms": 200, "enable.auto.commit": False,
    })
    consumer.subscribe([topic])
    while running():
        consumer.poll(0.1)
        write_state(consumer.memberid() or "", -1, [p.partition for p in consumer.assignment()])
    consumer.close()
else:
    sys.exit("unknown client " + client)
