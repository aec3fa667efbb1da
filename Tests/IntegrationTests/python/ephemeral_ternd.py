"""Starts ternd the way a test in another language would: an empty data directory and --port 0,
reading the chosen port from the `listening on HOST:PORT` line on ternd's stdout.

usage: ephemeral_ternd.py TERND
Starts two such brokers at once (their admin ports must not collide either), produces and reads
back a record on each with kafka-python, stops them with SIGTERM and checks both exit 0. Prints one
JSON line; exits non-zero on any failure.
"""
import json
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

ternd = sys.argv[1]


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def start():
    data_dir = tempfile.mkdtemp(prefix="tern-ephemeral-")
    log = tempfile.NamedTemporaryFile(prefix="tern-ephemeral-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [ternd, "--data-dir", data_dir, "--port", "0"], stdout=subprocess.PIPE, stderr=log, text=True
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], deadline - time.time())
        if not ready:
            break
        line = process.stdout.readline()
        if not line:
            break
        match = re.fullmatch(r"listening on (127\.0\.0\.1):(\d+)\n", line)
        if match:
            return process, int(match.group(2)), log.name
        fail("unexpected stdout line from ternd: %r" % line)
    process.kill()
    fail("no 'listening on' line within 60 s; ternd log:\n" + open(log.name).read())


brokers = [start(), start()]
ports = [port for _, port, _ in brokers]
if len(set(ports)) != 2 or 0 in ports:
    fail("expected two different non-zero ports, got %s" % ports)

for index, (_, port, _) in enumerate(brokers):
    bootstrap = "127.0.0.1:%d" % port
    value = b"hello from broker %d" % index
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    metadata = producer.send("ephemeral", value).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=10000)
    partition = TopicPartition("ephemeral", metadata.partition)
    consumer.assign([partition])
    consumer.seek(partition, metadata.offset)
    read = next(iter(consumer)).value
    consumer.close()
    if read != value:
        fail("broker on %s returned %r, expected %r" % (bootstrap, read, value))

statuses = []
for process, _, log in brokers:
    process.send_signal(signal.SIGTERM)
    try:
        statuses.append(process.wait(timeout=20))
    except subprocess.TimeoutExpired:
        process.kill()
        fail("ternd did not stop within 20 s; log:\n" + open(log).read())
    if statuses[-1] != 0:
        fail("ternd exited with %d; log:\n%s" % (statuses[-1], open(log).read()))
print(json.dumps({"ports": ports, "exit": statuses}))
