"""One kafka-python or confluent-kafka (librdkafka) group member for Tern's mixed-group tests.

usage: group_member.py CLIENT BOOTSTRAP GROUP TOPIC ASSIGNOR STATE_FILE SECONDS
CLIENT is kafka-python or confluent. Joins GROUP subscribed to TOPIC with ASSIGNOR (range or
roundrobin), and after every poll writes {"member": id, "generation": n, "assigned": [partitions]}
to STATE_FILE (atomically; generation is -1 for confluent, which does not expose it). Leaves the
group and exits when STATE_FILE + ".stop" exists or after SECONDS.
"""
import json
import os
import sys
import time

client, bootstrap, group, topic, assignor, state_file, seconds = sys.argv[1:8]


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
        enable_auto_commit=False,
    )
    consumer.subscribe([topic])
    while running():
        consumer.poll(timeout_ms=100)
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
