"""Static group membership (KIP-345) with librdkafka, started by the Swift integration tests.

usage: static_members.py BOOTSTRAP TOPIC [SYNC_DIR]
  Two confluent-kafka consumers with `group.instance.id` share a 4-partition topic. One is closed
  (a static member sends no LeaveGroup) and a new consumer with the same instance id starts within
  the session timeout: it gets the same partitions under a new member id, the other member sees no
  rebalance (no assign or revoke callback, librdkafka's rebalance count unchanged), DescribeGroups
  shows both instance ids, and records produced afterwards reach the owner of their partition.
  With SYNC_DIR, the broker is restarted first: once the group is stable the script creates
  SYNC_DIR/ready and keeps polling until the test has restarted the broker and created SYNC_DIR/go;
  the members carry on in their generation (the group was restored from its record) without a
  rebalance, and the member restart then happens as above.
Prints a JSON summary; exits non-zero on any mismatch.
"""
import json
import os
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

GROUP = "g-static"
PARTITIONS = 4


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


class Member:
    def __init__(self, bootstrap, topic, instance_id):
        self.instance_id = instance_id
        self.assigned = None
        self.callbacks = []
        self.rebalance_cnt = None
        self.records = []
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": GROUP, "group.instance.id": instance_id,
            "session.timeout.ms": 10000, "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest",
            "enable.auto.commit": True, "auto.commit.interval.ms": 200,
            "partition.assignment.strategy": "range", "statistics.interval.ms": 200,
            "stats_cb": self.on_stats,
        })
        self.consumer.subscribe([topic], on_assign=self.on_assign, on_revoke=self.on_revoke)

    def on_stats(self, text):
        cgrp = json.loads(text).get("cgrp")
        if cgrp is not None:
            self.rebalance_cnt = cgrp.get("rebalance_cnt")

    def on_assign(self, consumer, partitions):
        self.assigned = sorted(p.partition for p in partitions)
        self.callbacks.append(("assign", self.assigned))

    def on_revoke(self, consumer, partitions):
        self.callbacks.append(("revoke", sorted(p.partition for p in partitions)))

    def poll(self):
        message = self.consumer.poll(0.05)
        if message is not None and message.error() is None:
            self.records.append((message.partition(), message.value().decode()))


def poll_until(members, condition, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        for member in members:
            member.poll()
        if condition():
            return
    fail("timed out waiting for " + what + ": " + repr([(m.instance_id, m.assigned, m.callbacks) for m in members]))


def describe(admin):
    description = admin.describe_consumer_groups([GROUP])[GROUP].result(timeout=10)
    return {m.group_instance_id: m.member_id for m in description.members}, str(description.state)


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(timeout=10)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})

    def produce(tag):
        for p in range(PARTITIONS):
            producer.produce(topic, value=("%s-%d" % (tag, p)).encode(), partition=p)
        producer.flush(10)

    produce("before")
    a = Member(bootstrap, topic, "static-a")
    b = Member(bootstrap, topic, "static-b")
    both = lambda: a.assigned and b.assigned and sorted(a.assigned + b.assigned) == list(range(PARTITIONS))
    poll_until([a, b], lambda: both() and len(a.records) + len(b.records) == PARTITIONS, 60, "two static members")
    a_partitions, b_partitions = a.assigned, b.assigned
    poll_until([a, b], lambda: b.rebalance_cnt is not None, 10, "statistics")
    ids_before, _ = describe(admin)
    if set(ids_before) != {"static-a", "static-b"}:
        fail("DescribeGroups instance ids before the restart: %r" % ids_before)
    a_callbacks, b_callbacks, b_rebalances = list(a.callbacks), list(b.callbacks), b.rebalance_cnt
    broker_restarted = False
    if len(sys.argv) > 3:
        sync_dir = sys.argv[3]
        open(os.path.join(sync_dir, "ready"), "w").close()
        poll_until([a, b], lambda: os.path.exists(os.path.join(sync_dir, "go")), 60, "the broker restart")
        # Long enough for both members to heartbeat against the restarted broker.
        settle_until = time.time() + 3
        poll_until([a, b], lambda: time.time() >= settle_until, 10, "settling after the broker restart")
        if a.callbacks != a_callbacks or b.callbacks != b_callbacks or b.rebalance_cnt != b_rebalances:
            fail("a broker restart caused a rebalance: %r" % [(m.instance_id, m.callbacks, m.rebalance_cnt) for m in (a, b)])
        # A new admin client: the old one's connections went down with the broker.
        admin = AdminClient({"bootstrap.servers": bootstrap})
        ids_restarted, _ = describe(admin)
        if ids_restarted != ids_before:
            fail("member ids changed over the broker restart: %r, %r" % (ids_restarted, ids_before))
        broker_restarted = True

    # A static member's close sends no LeaveGroup: the group keeps its place for the session timeout.
    a.consumer.close()
    restarted = Member(bootstrap, topic, "static-a")
    poll_until([restarted, b], lambda: restarted.assigned is not None, 20, "the restarted member's assignment")
    if restarted.assigned != a_partitions:
        fail("restarted static member got %r, had %r" % (restarted.assigned, a_partitions))
    produce("after")
    after = lambda member: [p for p, v in member.records if v.startswith("after")]
    poll_until([restarted, b], lambda: len(after(restarted)) + len(after(b)) >= PARTITIONS, 30,
               "records produced after the restart")
    # Give a rebalance, if one were coming, time to show.
    settle_until = time.time() + 3
    poll_until([restarted, b], lambda: time.time() >= settle_until, 10, "settling")
    ids_after, state = describe(admin)
    after_records = [(p, v) for p, v in restarted.records + b.records if v.startswith("after")]
    summary = {
        "a": a_partitions, "b": b_partitions, "restarted": restarted.assigned,
        "b_callbacks_before": b_callbacks, "b_callbacks_after": b.callbacks,
        "b_rebalances_before": b_rebalances, "b_rebalances_after": b.rebalance_cnt,
        "members_before": ids_before, "members_after": ids_after, "state": state,
        "after_records": sorted(after_records), "broker_restarted": broker_restarted,
    }
    print(json.dumps(summary))
    if b.callbacks != b_callbacks or b.rebalance_cnt != b_rebalances:
        fail("the other static member saw a rebalance: %r" % summary)
    if ids_after.get("static-b") != ids_before["static-b"] or ids_after.get("static-a") in (None, ids_before["static-a"]):
        fail("member ids after the restart: %r" % summary)
    if sorted(after(restarted)) != a_partitions or sorted(after(b)) != b_partitions:
        fail("records after the restart did not reach their partitions' owners: %r" % summary)
    restarted.consumer.close()
    b.consumer.close()
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    main()
