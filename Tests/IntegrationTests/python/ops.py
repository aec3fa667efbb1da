"""Operations helpers for the Swift integration tests (confluent-kafka, i.e. librdkafka).

usage: ops.py load BOOTSTRAP TOPIC SECONDS
         produce acks=all records (values "r<i>") as fast as the broker takes them for SECONDS or
         until the broker goes away; print one JSON line: {"acked": [values acknowledged
         without error], "failed": count}. Exits 0 either way: failures are expected when the
         broker shuts down mid-load.
       ops.py commit BOOTSTRAP GROUP TOPIC PARTITION OFFSET
         commit OFFSET for GROUP without joining it (a simple-consumer commit) and wait for it.
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def load(bootstrap, topic, seconds):
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "linger.ms": 2,
        "message.timeout.ms": 5000,
        "retries": 0,
        "enable.idempotence": False,
        "reconnect.backoff.max.ms": 200,
    })
    acked, failed = [], [0]

    def delivered(error, message):
        if error is None:
            acked.append(message.value().decode())
        else:
            failed[0] += 1

    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        try:
            producer.produce(topic, value=b"r%d" % i, on_delivery=delivered)
            i += 1
        except BufferError:
            producer.poll(0.01)
            continue
        if i % 100 == 0:
            producer.poll(0)
    producer.flush(10)
    print(json.dumps({"acked": acked, "failed": failed[0], "sent": i}))


def commit(bootstrap, group, topic, partition, offset):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    consumer.commit(offsets=[TopicPartition(topic, int(partition), int(offset))], asynchronous=False)
    consumer.close()
    print(json.dumps({"committed": int(offset)}))


if __name__ == "__main__":
    action, arguments = sys.argv[1], sys.argv[2:]
    if action == "load":
        load(arguments[0], arguments[1], float(arguments[2]))
    elif action == "commit":
        commit(*arguments)
    else:
        sys.exit("unknown action " + action)
