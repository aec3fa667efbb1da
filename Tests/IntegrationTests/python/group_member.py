"""One kafka-python group member for Tern's mixed-group tests.

usage: group_member.py BOOTSTRAP GROUP TOPIC ASSIGNOR STATE_FILE SECONDS
Joins GROUP subscribed to TOPIC with ASSIGNOR (range or roundrobin), and after every poll writes
{"member": id, "generation": n, "assigned": [partitions]} to STATE_FILE (atomically). Leaves the
group and exits when STATE_FILE + ".stop" exists or after SECONDS.
"""
import json
import os
import sys
import time

from kafka import KafkaConsumer
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

bootstrap, group, topic, assignor, state_file, seconds = sys.argv[1:7]
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
deadline = time.time() + float(seconds)
while time.time() < deadline and not os.path.exists(state_file + ".stop"):
    consumer.poll(timeout_ms=100)
    generation = consumer._coordinator._generation
    state = {
        "member": generation.member_id,
        "generation": generation.generation_id,
        "assigned": sorted(p.partition for p in consumer.assignment()),
    }
    with open(state_file + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(state_file + ".tmp", state_file)
consumer.close()
