"""Trace context through Tern between OpenTelemetry's Python SDK and Tern's Swift client.

usage: tracing.py produce BOOTSTRAP TOPIC
       tracing.py extract BOOTSTRAP TOPIC

"produce" sends one record with a kafka-python producer instrumented by
opentelemetry-instrumentation-kafka-python (its "<topic> send" span, exported to memory) and
prints the span's trace and span ids and the headers the instrumentation wrote.
"extract" reads the first record of TOPIC with a plain kafka-python consumer and runs its headers
through OpenTelemetry's global propagator (`opentelemetry.propagate.extract`, W3C trace context and
baggage by default) with the instrumentation's own header getter, and prints the span context it
found. Prints one JSON line and exits non-zero on the first failure.
"""

import json
import sys


def fail(step, error):
    print(json.dumps({"ok": False, "step": step, "error": repr(error)}), flush=True)
    sys.exit(1)


def produce(bootstrap, topic):
    from kafka import KafkaProducer
    from opentelemetry.instrumentation.kafka import KafkaInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    KafkaInstrumentor().instrument(tracer_provider=provider)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    headers = []
    producer.send(topic, key=b"py-key", value=b"from python", headers=headers).get(timeout=30)
    producer.flush()
    producer.close()
    spans = [span for span in exporter.get_finished_spans() if span.kind.name == "PRODUCER"]
    if len(spans) != 1:
        fail("spans", [span.name for span in exporter.get_finished_spans()])
    context = spans[0].get_span_context()
    print(json.dumps({
        "ok": True,
        "name": spans[0].name,
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "headers": {key: value.decode() for key, value in headers},
    }), flush=True)


def extract(bootstrap, topic):
    from kafka import KafkaConsumer, TopicPartition
    from opentelemetry import propagate, trace
    from opentelemetry.instrumentation.kafka.utils import KafkaContextGetter

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=10000)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    record = next(iter(consumer), None)
    consumer.close()
    if record is None:
        fail("consume", "no record")
    context = propagate.extract(record.headers, getter=KafkaContextGetter())
    span_context = trace.get_current_span(context).get_span_context()
    print(json.dumps({
        "ok": span_context.is_valid,
        "trace_id": format(span_context.trace_id, "032x"),
        "span_id": format(span_context.span_id, "016x"),
        "sampled": span_context.trace_flags.sampled,
        "is_remote": span_context.is_remote,
        "trace_state": span_context.trace_state.to_header(),
    }), flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("produce", "extract"):
        fail("usage", sys.argv)
    try:
        {"produce": produce, "extract": extract}[sys.argv[1]](sys.argv[2], sys.argv[3])
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001 - reported as JSON
        fail(sys.argv[1], error)
