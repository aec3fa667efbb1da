"""Consumer-group scenarios against Tern, started by the Swift integration tests.

usage: groups.py SCENARIO BOOTSTRAP TOPIC
  balance        6 partitions, 3 confluent-kafka consumers in separate processes: each gets two
                 partitions; one is SIGKILLed and its partitions move to the other two within the
                 session timeout; every record is consumed, none twice before the kill.
  assignor-range / assignor-roundrobin
                 two kafka-python consumers with that assignor on a 4-partition topic get the
                 assignor's exact split, consume everything once and commit; a restarted consumer
                 resumes from the committed offsets.
  commit         commit offsets for group g-durable (kafka-python), print them as JSON
  committed      print the committed offsets of group g-durable as JSON
Exits non-zero on any mismatch.
"""
import json
import multiprocessing
import os
import signal
import sys
import time


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def create_topic(bootstrap, topic, partitions):
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, partitions, 1)])
    admin.close()


def produce(bootstrap, topic, partitions, per_partition, tag):
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for p in range(partitions):
        for i in range(per_partition):
            producer.send(topic, value=b"%s-%d-%d" % (tag.encode(), p, i), partition=p)
    producer.flush()
    producer.close()


def confluent_member(bootstrap, topic, name, events):
    from confluent_kafka import Consumer
    assigned = []

    def on_assign(consumer, partitions):
        assigned[:] = [p.partition for p in partitions]
        events.put(("assign", name, sorted(assigned)))

    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": "g-balance", "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest", "enable.auto.commit": True,
        "auto.commit.interval.ms": 200, "partition.assignment.strategy": "range",
    })
    consumer.subscribe([topic], on_assign=on_assign)
    while True:
        message = consumer.poll(0.2)
        if message is None or message.error():
            continue
        events.put(("record", name, message.partition(), message.offset()))


def balance(bootstrap, topic):
    create_topic(bootstrap, topic, 6)
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    members = {name: context.Process(target=confluent_member, args=(bootstrap, topic, name, events), daemon=True)
               for name in ("a", "b", "c")}
    for process in members.values():
        process.start()
    assignments, seen = {}, {}

    def drain(until, deadline_s, what):
        deadline = time.time() + deadline_s
        while time.time() < deadline:
            if until():
                return
            try:
                event = events.get(timeout=0.5)
            except Exception:
                continue
            if event[0] == "assign":
                assignments[event[1]] = event[2]
            else:
                key = (event[2], event[3])
                seen.setdefault(key, []).append(event[1])
        fail("timed out waiting for %s: assignments %s, %d records" % (what, assignments, len(seen)))

    def balanced():
        parts = [p for member in ("a", "b", "c") for p in assignments.get(member, [])]
        return sorted(parts) == list(range(6)) and all(len(assignments.get(m, [])) == 2 for m in "abc")

    # Records go in once the group is stable, so a member joining late cannot cause re-reads.
    drain(balanced, 90, "three balanced members")
    produce(bootstrap, topic, 6, 50, "first")
    drain(lambda: len(seen) == 300, 60, "300 records")
    duplicates = [key for key, names in seen.items() if len(names) > 1]
    if duplicates:
        fail("consumed twice: %s" % duplicates[:5])
    first_assignment = dict(assignments)

    killed = "c"
    os.kill(members[killed].pid, signal.SIGKILL)
    killed_at = time.time()
    survivors = ("a", "b")

    def moved():
        parts = [p for member in survivors for p in assignments.get(member, [])]
        return sorted(parts) == list(range(6))

    drain(moved, 60, "the killed member's partitions to move")
    moved_after = time.time() - killed_at
    produce(bootstrap, topic, 6, 50, "second")
    drain(lambda: len(seen) == 600, 60, "600 records")
    for process in members.values():
        if process.is_alive():
            process.kill()
    return {"first": first_assignment, "after": {m: assignments[m] for m in survivors},
            "moved_after_s": round(moved_after, 1), "records": len(seen)}


def assignor(bootstrap, topic, name):
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    strategy = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}[name]
    create_topic(bootstrap, topic, 4)
    group = "g-" + name

    def consumer():
        return KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False, partition_assignment_strategy=[strategy],
                             session_timeout_ms=10000, heartbeat_interval_ms=500)

    # One thread per member: a kafka-python poll blocks inside JoinGroup until the other member
    # joins too, so both must poll at the same time.
    import threading
    members = [consumer(), consumer()]
    seen = {}
    lock = threading.Lock()
    stop = threading.Event()
    stopped = [threading.Event(), threading.Event()]

    def run(index, member):
        while not stop.is_set():
            for tp, records in member.poll(timeout_ms=200).items():
                with lock:
                    for record in records:
                        seen.setdefault((tp.partition, record.offset), []).append(index)
        stopped[index].set()

    threads = [threading.Thread(target=run, args=(i, m), daemon=True) for i, m in enumerate(members)]
    for thread in threads:
        thread.start()
    deadline = time.time() + 90
    while time.time() < deadline and not all(len(m.assignment()) == 2 for m in members):
        time.sleep(0.1)
    # Records go in once both members hold their partitions, so nothing is read twice.
    produce(bootstrap, topic, 4, 25, name)
    while time.time() < deadline:
        with lock:
            if len(seen) >= 100:
                break
        time.sleep(0.1)
    stop.set()
    for event in stopped:
        event.wait(10)
    if len(seen) != 100:
        fail("consumed %d of 100" % len(seen))
    if any(len(v) > 1 for v in seen.values()):
        fail("records consumed twice")
    split = sorted(sorted(tp.partition for tp in m.assignment()) for m in members)
    expected = {"range": [[0, 1], [2, 3]], "roundrobin": [[0, 2], [1, 3]]}[name]
    if split != expected:
        fail("%s gave %s, expected %s" % (name, split, expected))
    for member in members:
        member.commit()
        member.close()
    # A restarted member resumes where the group committed: nothing is left to read.
    produce(bootstrap, topic, 4, 1, "late")
    restarted = consumer()
    late = []
    deadline = time.time() + 60
    while time.time() < deadline and len(late) < 4:
        for records in restarted.poll(timeout_ms=200).values():
            late.extend(r.value for r in records)
    restarted.close()
    if sorted(late) != sorted(b"late-%d-0" % p for p in range(4)):
        fail("restarted consumer read %s instead of only the 4 new records" % late[:8])
    return {"split": split, "records": len(seen)}


def commit(bootstrap, topic):
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata
    create_topic(bootstrap, topic, 3)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id="g-durable", enable_auto_commit=False)
    offsets = {TopicPartition(topic, p): OffsetAndMetadata(10 * (p + 1), "meta-%d" % p, -1) for p in range(3)}
    consumer.commit(offsets)
    consumer.close()
    return committed(bootstrap, topic)


def committed(bootstrap, topic):
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id="g-durable", enable_auto_commit=False)
    result = {str(p): consumer.committed(TopicPartition(topic, p)) for p in range(3)}
    consumer.close()
    return result


def main():
    scenario, bootstrap, topic = sys.argv[1:4]
    if scenario == "balance":
        result = balance(bootstrap, topic)
    elif scenario.startswith("assignor-"):
        result = assignor(bootstrap, topic, scenario[len("assignor-"):])
    elif scenario == "commit":
        result = commit(bootstrap, topic)
    elif scenario == "committed":
        result = committed(bootstrap, topic)
    else:
        fail("unknown scenario " + scenario)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
