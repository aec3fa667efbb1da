"""Transactions seen by real clients: confluent-kafka (librdkafka), aiokafka and kafka-python
transactional producers commit and abort across partitions; read_committed and read_uncommitted
consumers check exactly what each sees.

usage: transactions.py SCENARIO BOOTSTRAP [ARGS]
  commit-abort CLIENT   CLIENT = confluent | aiokafka | kafka-python: on a new 3-partition topic,
                        commit 2 records per partition, abort 2 per partition, commit 1 more per
                        partition; read_committed sees exactly the committed ones, in order,
                        read_uncommitted sees all of them and no control record
  fencing               two confluent producers with one transactional.id: the second's
                        init_transactions aborts the first's open transaction and fences it
  timeout               a confluent transaction left open past transaction.timeout.ms (3 s) is
                        aborted by the broker: read_committed reaches the end without its
                        records, and the producer is fenced
  produce TOPIC CLIENT  create TOPIC (3 partitions) and write commit-abort's transactions to it
                        with CLIENT, for another client's consumer to check
  check TOPIC           what commit-abort checks, of transactions another client (Tern's) wrote
                        to TOPIC: confluent's read_committed and read_uncommitted consumers
  ctp-setup TOPIC N     create TOPIC-in (3 partitions) holding N records and TOPIC-out
  ctp-worker TOPIC      consume-transform-produce, exactly once: read TOPIC-in in group
                        TOPIC-group with read_committed, write each value upper-cased to TOPIC-out
                        and the input offsets in the same transaction; runs until killed or idle
  ctp-check TOPIC N     TOPIC-out holds each input exactly once (read_committed); the group's
                        committed offsets cover all of TOPIC-in
Prints one JSON line and exits non-zero on the first failure. Every wait is bounded.
"""

import asyncio
import json
import sys
import time
import uuid

PARTITIONS = 3


def fail(step, error, **details):
    print(json.dumps({"ok": False, "step": step, "error": repr(error), **details}), flush=True)
    sys.exit(1)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def create_topic(bootstrap, topic, partitions=PARTITIONS):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(timeout=20)


def read(bootstrap, topic, isolation, expected, partitions=PARTITIONS, idle_s=2.0, timeout_s=30):
    """Values per partition, read by assignment from the beginning with librdkafka, until
    `expected` records arrived and nothing more came for `idle_s` (or the timeout)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": "reader-" + uuid.uuid4().hex,
        "enable.auto.commit": False, "isolation.level": isolation,
    })
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    values = {p: [] for p in range(partitions)}
    count = 0
    deadline = time.monotonic() + timeout_s
    last_arrival = time.monotonic()
    while time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            if count >= expected and time.monotonic() - last_arrival > idle_s:
                break
            continue
        if message.error():
            raise RuntimeError(message.error())
        values[message.partition()].append(message.value().decode())
        count += 1
        last_arrival = time.monotonic()
    consumer.close()
    return values


def expected_values(partitions=PARTITIONS):
    committed = {p: [t.format(p=p) for templates, commit in PHASES if commit for t in templates]
                 for p in range(partitions)}
    everything = {p: [t.format(p=p) for templates, _ in PHASES for t in templates] for p in range(partitions)}
    return committed, everything


# Each transaction: the value templates written to every partition, and whether it commits.
PHASES = [(["c{p}-0", "c{p}-1"], True), (["a{p}-0", "a{p}-1"], False), (["c{p}-2"], True)]


def transactions_confluent(bootstrap, topic):
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "tx-" + uuid.uuid4().hex})
    producer.init_transactions(20)
    for templates, commit in PHASES:
        producer.begin_transaction()
        for p in range(PARTITIONS):
            for name in (template.format(p=p) for template in templates):
                producer.produce(topic, value=name.encode(), key=b"k", partition=p)
        if commit:
            producer.commit_transaction(20)
        else:
            producer.flush(20)  # the aborted records reach the log before the abort
            producer.abort_transaction(20)


def transactions_kafka_python(bootstrap, topic):
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id="tx-" + uuid.uuid4().hex)
    producer.init_transactions()
    for templates, commit in PHASES:
        producer.begin_transaction()
        for p in range(PARTITIONS):
            for name in (template.format(p=p) for template in templates):
                producer.send(topic, value=name.encode(), key=b"k", partition=p)
        if commit:
            producer.commit_transaction()
        else:
            producer.flush()
            producer.abort_transaction()
    producer.close()


def transactions_aiokafka(bootstrap, topic):
    from aiokafka import AIOKafkaProducer

    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id="tx-" + uuid.uuid4().hex)
        await asyncio.wait_for(producer.start(), 30)
        try:
            for templates, commit in PHASES:
                await producer.begin_transaction()
                for p in range(PARTITIONS):
                    for name in (template.format(p=p) for template in templates):
                        await producer.send_and_wait(topic, value=name.encode(), key=b"k", partition=p)
                if commit:
                    await asyncio.wait_for(producer.commit_transaction(), 30)
                else:
                    await asyncio.wait_for(producer.abort_transaction(), 30)
        finally:
            await producer.stop()

    asyncio.run(run())


def commit_abort(bootstrap, client):
    topic = f"tx-{client}-" + uuid.uuid4().hex[:8]
    step = "create"
    try:
        create_topic(bootstrap, topic)
        step = "produce"
        PRODUCERS[client](bootstrap, topic)
        committed, everything = expected_values()
        step = "read_committed"
        seen = read(bootstrap, topic, "read_committed", expected=sum(map(len, committed.values())))
        check(seen == committed, f"read_committed saw {seen}, expected {committed}")
        step = "read_uncommitted"
        seen_all = read(bootstrap, topic, "read_uncommitted", expected=sum(map(len, everything.values())))
        check(seen_all == everything, f"read_uncommitted saw {seen_all}, expected {everything}")
    except Exception as error:  # noqa: BLE001 - reported as JSON
        fail(step, error)
    print(json.dumps({"ok": True, "client": client, "committed": sum(map(len, committed.values()))}), flush=True)


PRODUCERS = {"confluent": transactions_confluent, "kafka-python": transactions_kafka_python,
             "aiokafka": transactions_aiokafka}


def produce(bootstrap, topic, client):
    step = "create"
    try:
        create_topic(bootstrap, topic)
        step = "produce"
        PRODUCERS[client](bootstrap, topic)
    except Exception as error:  # noqa: BLE001 - reported as JSON
        fail(step, error)
    print(json.dumps({"ok": True, "client": client}), flush=True)


def check_written(bootstrap, topic):
    committed, everything = expected_values()
    step = "read_committed"
    try:
        seen = read(bootstrap, topic, "read_committed", expected=sum(map(len, committed.values())))
        check(seen == committed, f"read_committed saw {seen}, expected {committed}")
        step = "read_uncommitted"
        seen_all = read(bootstrap, topic, "read_uncommitted", expected=sum(map(len, everything.values())))
        check(seen_all == everything, f"read_uncommitted saw {seen_all}, expected {everything}")
    except Exception as error:  # noqa: BLE001 - reported as JSON
        fail(step, error)
    print(json.dumps({"ok": True, "committed": sum(map(len, committed.values()))}), flush=True)


def fencing(bootstrap):
    from confluent_kafka import KafkaException, Producer

    topic = "tx-fence-" + uuid.uuid4().hex[:8]
    transactional_id = "fence-" + uuid.uuid4().hex
    step = "create"
    try:
        create_topic(bootstrap, topic, partitions=1)
        step = "zombie"
        zombie = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
        zombie.init_transactions(20)
        zombie.begin_transaction()
        zombie.produce(topic, value=b"zombie", partition=0)
        zombie.flush(20)
        step = "successor"
        successor = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
        successor.init_transactions(30)  # aborts the zombie's transaction, bumps the epoch
        successor.begin_transaction()
        successor.produce(topic, value=b"successor", partition=0)
        successor.commit_transaction(20)
        step = "zombie-commit"
        fenced = None
        try:
            zombie.commit_transaction(10)
        except KafkaException as error:
            fenced = error.args[0]
        check(fenced is not None, "the zombie's commit succeeded")
        check(fenced.fatal() or "fenced" in fenced.str().lower(), f"the zombie was not fenced: {fenced}")
        step = "read"
        seen = read(bootstrap, topic, "read_committed", expected=1, partitions=1)
        check(seen == {0: ["successor"]}, f"read_committed saw {seen}")
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    print(json.dumps({"ok": True, "fenced_error": fenced.name()}), flush=True)


def timeout(bootstrap):
    from confluent_kafka import KafkaException, Producer

    topic = "tx-timeout-" + uuid.uuid4().hex[:8]
    step = "create"
    try:
        create_topic(bootstrap, topic, partitions=1)
        step = "open"
        before = Producer({"bootstrap.servers": bootstrap})
        before.produce(topic, value=b"before", partition=0)
        before.flush(20)
        producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "timeout-" + uuid.uuid4().hex,
                             "transaction.timeout.ms": 3000})
        producer.init_transactions(20)
        producer.begin_transaction()
        producer.produce(topic, value=b"abandoned", partition=0)
        producer.flush(20)
        after = Producer({"bootstrap.servers": bootstrap})
        after.produce(topic, value=b"after", partition=0)
        after.flush(20)
        step = "read"
        # The open transaction holds the last stable offset back; once the broker aborts it the
        # records after it become readable.
        started = time.monotonic()
        seen = read(bootstrap, topic, "read_committed", expected=2, partitions=1, timeout_s=40)
        waited = time.monotonic() - started
        check(seen == {0: ["before", "after"]}, f"read_committed saw {seen}")
        step = "commit-after-timeout"
        refused = None
        try:
            producer.commit_transaction(10)
        except KafkaException as error:
            refused = error.args[0]
        check(refused is not None, "committing a timed-out transaction succeeded")
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    print(json.dumps({"ok": True, "waited_s": round(waited, 1), "commit_error": refused.name()}), flush=True)


def ctp_setup(bootstrap, topic, count):
    from confluent_kafka import Producer

    create_topic(bootstrap, topic + "-in")
    create_topic(bootstrap, topic + "-out")
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i in range(count):
        producer.produce(topic + "-in", value=f"v{i:05d}".encode(), key=f"k{i}".encode())
    producer.flush(30)
    print(json.dumps({"ok": True, "produced": count}), flush=True)


def ctp_worker(bootstrap, topic):
    """Runs until killed, or until nothing arrived for 5 s while it held partitions (a group
    still rebalancing after a killed member's session is no reason to stop)."""
    from confluent_kafka import Consumer, Producer

    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": topic + "-group", "enable.auto.commit": False,
        "isolation.level": "read_committed", "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
    })
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": topic + "-processor",
                         "transaction.timeout.ms": 10000})
    producer.init_transactions(30)
    consumer.subscribe([topic + "-in"])
    print("ready", flush=True)
    idle_since = None
    while idle_since is None or time.monotonic() - idle_since < 5:
        messages = consumer.consume(num_messages=20, timeout=0.5)
        if not messages:
            if not consumer.assignment():
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            continue
        idle_since = time.monotonic()
        producer.begin_transaction()
        for message in messages:
            if message.error():
                raise RuntimeError(message.error())
            producer.produce(topic + "-out", value=message.value().upper(), key=message.key())
        producer.send_offsets_to_transaction(
            consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 20
        )
        producer.commit_transaction(20)
    consumer.close()
    print(json.dumps({"ok": True, "worker": "idle"}), flush=True)


def ctp_check(bootstrap, topic, count):
    from confluent_kafka import Consumer, TopicPartition

    step = "read"
    try:
        seen = read(bootstrap, topic + "-out", "read_committed", expected=count, timeout_s=60)
        values = [value for partition in seen.values() for value in partition]
        expected = {f"V{i:05d}" for i in range(count)}
        duplicates = len(values) - len(set(values))
        check(duplicates == 0, f"{duplicates} output records are duplicates")
        missing = sorted(expected - set(values))
        counts = {partition: len(got) for partition, got in seen.items()}
        check(not missing, f"{len(missing)} of {count} missing (read {counts}), first {missing[:10]}")
        step = "committed"
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic + "-group"})
        committed = consumer.committed([TopicPartition(topic + "-in", p) for p in range(PARTITIONS)], 20)
        total = sum(tp.offset for tp in committed)
        consumer.close()
        check(total == count, f"the group committed {total} input offsets, expected {count}")
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    print(json.dumps({"ok": True, "output": len(values)}), flush=True)


def main():
    scenario, bootstrap = sys.argv[1], sys.argv[2]
    if scenario == "commit-abort":
        commit_abort(bootstrap, sys.argv[3])
    elif scenario == "produce":
        produce(bootstrap, sys.argv[3], sys.argv[4])
    elif scenario == "check":
        check_written(bootstrap, sys.argv[3])
    elif scenario == "fencing":
        fencing(bootstrap)
    elif scenario == "timeout":
        timeout(bootstrap)
    elif scenario == "ctp-setup":
        ctp_setup(bootstrap, sys.argv[3], int(sys.argv[4]))
    elif scenario == "ctp-worker":
        ctp_worker(bootstrap, sys.argv[3])
    elif scenario == "ctp-check":
        ctp_check(bootstrap, sys.argv[3], int(sys.argv[4]))
    else:
        fail("usage", f"unknown scenario {scenario}")


if __name__ == "__main__":
    main()
