"""Two confluent-kafka (librdkafka) producers writing as fast as they can while the Swift test pulls
the broker's plug: one idempotent with acks=all, one with acks=1. Started by PowerLossTests.

usage: power_loss_producer.py BOOTSTRAP PREFIX TOPIC[,TOPIC...] OUTFILE
Values are PREFIX-all-N and PREFIX-one-N. Prints "acked" once both producers had a record
acknowledged. On SIGTERM it stops producing, waits (bounded) for outstanding deliveries, and writes
OUTFILE: one line per record, "sent VALUE", "all TOPIC PARTITION OFFSET VALUE" or
"one TOPIC PARTITION OFFSET VALUE".
"""
import signal
import sys
import time

from confluent_kafka import Producer

bootstrap, prefix, topics, outfile = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
stopping = False


def stop(*_):
    global stopping
    stopping = True


# The test process may have left SIGTERM ignored or blocked, and children inherit both.
signal.signal(signal.SIGTERM, stop)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})

common = {
    "bootstrap.servers": bootstrap,
    "linger.ms": 1,
    # The broker does not come back on this port: fail what is in flight quickly.
    "message.timeout.ms": 500,
    "socket.timeout.ms": 500,
    "reconnect.backoff.ms": 10,
    "reconnect.backoff.max.ms": 50,
    "log_level": 0,
}
producers = {
    "all": Producer({**common, "acks": "all", "enable.idempotence": True}),
    "one": Producer({**common, "acks": 1, "enable.idempotence": False}),
}
lines = []
acked = {"all": 0, "one": 0}
announced = False


def on_delivery(label):
    def report(error, message):
        if error is None:
            acked[label] += 1
            lines.append(
                f"{label} {message.topic()} {message.partition()} {message.offset()} {message.value().decode()}"
            )

    return report


reports = {label: on_delivery(label) for label in producers}
sequence = 0
deadline = time.monotonic() + 60
while not stopping and time.monotonic() < deadline:
    for label, producer in producers.items():
        value = f"{prefix}-{label}-{sequence}"
        lines.append(f"sent {value}")
        try:
            producer.produce(
                topics[sequence % len(topics)], key=f"k{sequence % 7}", value=value, on_delivery=reports[label]
            )
        except BufferError:
            producer.poll(0.01)
        producer.poll(0)
    sequence += 1
    if not announced and acked["all"] and acked["one"]:
        print("acked", flush=True)
        announced = True
    if sequence % 200 == 0:
        time.sleep(0.001)

for producer in producers.values():
    producer.flush(5)
with open(outfile, "w") as out:
    out.write("\n".join(lines) + "\n")
