"""Drives one Kafka client's config admin API against a broker: AlterConfigs,
IncrementalAlterConfigs and DescribeConfigs (with synonyms) on topics and the broker, the good
cases, the refusals, and a config change taking effect on a live topic.

usage: configs.py CLIENT BOOTSTRAP PHASE [TOPIC]

CLIENT is kafka-python (KafkaAdminClient) or confluent (confluent-kafka's AdminClient, librdkafka).
PHASE "alter" creates a topic, alters and checks it, leaves it with max.message.bytes=2000 (and
the broker with log.retention.bytes=123456789 on node 0) and prints the topic's name; PHASE
"after-restart" checks that TOPIC still has those configs.
Prints one JSON line and exits non-zero on the first failure.
"""

import json
import sys
import uuid

NODE_ID = "0"
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
INVALID_CONFIG = 40
INVALID_REQUEST = 42
DEFAULT_MAX_MESSAGE_BYTES = "1048588"
BROKER_RETENTION_BYTES = "123456789"


def fail(step, error):
    print(json.dumps({"ok": False, "step": step, "error": repr(error)}), flush=True)
    sys.exit(1)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def run_kafka_python(bootstrap, phase, existing):
    from kafka import KafkaAdminClient, KafkaProducer
    from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
    from kafka.admin._configs import AlterConfigOp
    import kafka.errors as Errors

    result = {}
    step = "connect"
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)

        def describe(resource_type, name, synonyms=True):
            described = admin.describe_configs(
                [ConfigResource(resource_type, name)], include_synonyms=synonyms, config_filter="all")
            return described[resource_type.name.lower()][name]

        def alter(resource_type, name, configs, incremental, validate_only=False):
            answer = admin.alter_configs([ConfigResource(resource_type, name, configs)],
                                         validate_only=validate_only, raise_on_unknown=False,
                                         incremental=incremental)
            return answer[resource_type.name.lower()][name]

        def expect_refusal(code, answer):
            error_type = Errors.for_code(code)
            check(answer.startswith(error_type.__name__) or error_type.__name__ in answer,
                  "expected %s, got %r" % (error_type.__name__, answer))
            return answer

        if phase == "after-restart":
            step = "describe after restart"
            configs = describe(ConfigResourceType.TOPIC, existing)
            check(configs["max.message.bytes"]["value"] == "2000", "after restart %r" % configs["max.message.bytes"])
            check(configs["max.message.bytes"]["config_source"] == "DYNAMIC_TOPIC_CONFIG",
                  "after restart %r" % configs["max.message.bytes"])
            broker = describe(ConfigResourceType.BROKER, NODE_ID)
            check(broker["log.retention.bytes"]["value"] == BROKER_RETENTION_BYTES, "broker %r" % broker)
            check(broker["log.retention.bytes"]["config_source"] == "DYNAMIC_BROKER_CONFIG", "broker %r" % broker)
            topic_configs = describe(ConfigResourceType.TOPIC, existing)
            check(topic_configs["retention.bytes"]["value"] == BROKER_RETENTION_BYTES,
                  "inherited after restart %r" % topic_configs["retention.bytes"])
            step = "produce above the limit after restart"
            producer = KafkaProducer(bootstrap_servers=bootstrap, retries=0)
            try:
                producer.send(existing, value=b"x" * 5000).get(timeout=10)
                raise AssertionError("a 5000-byte record was accepted")
            except Errors.KafkaError as error:
                check(getattr(error, "errno", None) == MESSAGE_TOO_LARGE, "got %r" % error)
            producer.close()
            admin.close()
            result["ok"] = True
            print(json.dumps(result), flush=True)
            return

        topic = "cfg-kp-" + uuid.uuid4().hex[:8]
        step = "create topic"
        admin.create_topics([NewTopic(topic, 1, 1)])

        step = "alter configs (whole set)"
        answer = alter(ConfigResourceType.TOPIC, topic, {"retention.ms": "3600000", "max.message.bytes": "2000"},
                       incremental=False)
        check(answer == "OK", "alter %r" % answer)
        configs = describe(ConfigResourceType.TOPIC, topic)
        check(configs["retention.ms"]["value"] == "3600000", "retention.ms %r" % configs["retention.ms"])
        check(configs["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG", "%r" % configs["retention.ms"])
        sources = [s["source"] for s in configs["retention.ms"]["synonyms"]]
        check(sources[0] == "DYNAMIC_TOPIC_CONFIG" and sources[-1] == "DEFAULT_CONFIG", "synonyms %r" % sources)
        check(configs["segment.bytes"]["config_source"] == "DEFAULT_CONFIG", "%r" % configs["segment.bytes"])

        step = "produce above the lowered max.message.bytes"
        producer = KafkaProducer(bootstrap_servers=bootstrap, retries=0)
        producer.send(topic, value=b"small").get(timeout=10)
        try:
            producer.send(topic, value=b"x" * 5000).get(timeout=10)
            raise AssertionError("a 5000-byte record was accepted")
        except Errors.KafkaError as error:
            check(getattr(error, "errno", None) == MESSAGE_TOO_LARGE, "got %r" % error)
            result["message_too_large"] = type(error).__name__

        step = "incremental alter configs"
        answer = alter(ConfigResourceType.TOPIC, topic,
                       {"max.message.bytes": "2000", "retention.ms": (AlterConfigOp.DELETE, None),
                        "cleanup.policy": (AlterConfigOp.APPEND, "compact")}, incremental=True)
        check(answer == "OK", "incremental %r" % answer)
        configs = describe(ConfigResourceType.TOPIC, topic)
        check(configs["max.message.bytes"]["value"] == "2000", "%r" % configs["max.message.bytes"])
        check(configs["retention.ms"]["config_source"] == "DEFAULT_CONFIG", "%r" % configs["retention.ms"])
        check(configs["cleanup.policy"]["value"] == "compact,delete", "%r" % configs["cleanup.policy"])
        check(configs["cleanup.policy"].get("config_type") in (None, "LIST"), "%r" % configs["cleanup.policy"])

        step = "validate only changes nothing"
        check(alter(ConfigResourceType.TOPIC, topic, {"max.message.bytes": "999"}, incremental=True,
                    validate_only=True) == "OK", "validate only")
        check(describe(ConfigResourceType.TOPIC, topic)["max.message.bytes"]["value"] == "2000", "validate only")

        step = "refusals"
        result["unknown_topic"] = expect_refusal(
            UNKNOWN_TOPIC_OR_PARTITION,
            alter(ConfigResourceType.TOPIC, "missing-" + topic, {"retention.ms": "1"}, incremental=True))
        result["invalid_value"] = expect_refusal(
            INVALID_CONFIG, alter(ConfigResourceType.TOPIC, topic, {"retention.ms": "soon"}, incremental=True))
        result["unknown_key"] = expect_refusal(
            INVALID_CONFIG, alter(ConfigResourceType.TOPIC, topic, {"no.such.config": "1"}, incremental=False))
        result["append_to_non_list"] = expect_refusal(
            INVALID_CONFIG,
            alter(ConfigResourceType.TOPIC, topic, {"retention.ms": (AlterConfigOp.APPEND, "1")}, incremental=True))
        result["static_broker_key"] = expect_refusal(
            INVALID_REQUEST, alter(ConfigResourceType.BROKER, NODE_ID, {"num.partitions": "3"}, incremental=True))
        check(describe(ConfigResourceType.TOPIC, topic)["max.message.bytes"]["value"] == "2000", "after refusals")

        step = "broker dynamic config"
        check(alter(ConfigResourceType.BROKER, NODE_ID, {"log.retention.bytes": BROKER_RETENTION_BYTES},
                    incremental=True) == "OK", "broker alter")
        broker = describe(ConfigResourceType.BROKER, NODE_ID)
        check(broker["log.retention.bytes"]["value"] == BROKER_RETENTION_BYTES, "%r" % broker["log.retention.bytes"])
        check(broker["log.retention.bytes"]["config_source"] == "DYNAMIC_BROKER_CONFIG", "%r" % broker)
        check(broker["port"]["read_only"] and broker["port"]["config_source"] == "STATIC_BROKER_CONFIG",
              "%r" % broker["port"])
        retention = describe(ConfigResourceType.TOPIC, topic)["retention.bytes"]
        check(retention["value"] == BROKER_RETENTION_BYTES, "inherited %r" % retention)
        check(retention["config_source"] == "DYNAMIC_BROKER_CONFIG", "inherited %r" % retention)
        admin.close()
        producer.close()
        result["topic"] = topic
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    result["ok"] = True
    print(json.dumps(result), flush=True)


def run_confluent(bootstrap, phase, existing):
    from confluent_kafka import KafkaException, Producer
    from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource,
                                       NewTopic)

    result = {}
    step = "connect"
    try:
        admin = AdminClient({"bootstrap.servers": bootstrap})

        def describe(resource_type, name):
            resource = ConfigResource(resource_type, name)
            return admin.describe_configs([resource], request_timeout=10)[resource].result(10)

        def incremental(resource_type, name, entries, validate_only=False):
            resource = ConfigResource(resource_type, name, incremental_configs=entries)
            return admin.incremental_alter_configs([resource], validate_only=validate_only)[resource]

        def expect_error(code, future):
            try:
                future.result(10)
            except KafkaException as error:
                got = error.args[0].code()
                check(got == code, "expected error %d, got %r" % (code, error))
                return error.args[0].name()
            raise AssertionError("expected error %d, got success" % code)

        if phase == "after-restart":
            step = "describe after restart"
            configs = describe("topic", existing)
            check(configs["max.message.bytes"].value == "2000", "%r" % configs["max.message.bytes"])
            check(configs["max.message.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
                  "%r" % configs["max.message.bytes"])
            result["ok"] = True
            print(json.dumps(result), flush=True)
            return

        topic = "cfg-ck-" + uuid.uuid4().hex[:8]
        step = "create topic"
        admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)

        step = "alter configs (whole set)"
        resource = ConfigResource("topic", topic, set_config={"retention.ms": "3600000", "flush.messages": "10"})
        admin.alter_configs([resource])[resource].result(10)
        configs = describe("topic", topic)
        check(configs["retention.ms"].value == "3600000", "%r" % configs["retention.ms"])
        check(configs["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value, "%r" % configs["retention.ms"])
        check(configs["flush.messages"].value == "10", "%r" % configs["flush.messages"])
        synonyms = configs["retention.ms"].synonyms
        check(list(synonyms)[0] == "retention.ms" and "log.retention.ms" in synonyms, "synonyms %r" % synonyms)
        check(configs["segment.ms"].is_default, "%r" % configs["segment.ms"])

        step = "incremental alter configs"
        incremental("topic", topic, [
            ConfigEntry("max.message.bytes", "2000", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("flush.messages", None, incremental_operation=AlterConfigOpType.DELETE),
            ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND),
        ]).result(10)
        configs = describe("topic", topic)
        check(configs["max.message.bytes"].value == "2000", "%r" % configs["max.message.bytes"])
        check(configs["retention.ms"].value == "3600000", "incremental kept %r" % configs["retention.ms"])
        check(configs["flush.messages"].source == ConfigSource.DEFAULT_CONFIG.value, "%r" % configs["flush.messages"])
        check(configs["cleanup.policy"].value == "compact,delete", "%r" % configs["cleanup.policy"])
        incremental("topic", topic, [
            ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SUBTRACT),
        ]).result(10)
        check(describe("topic", topic)["cleanup.policy"].value == "delete", "subtract")

        step = "produce above the lowered max.message.bytes"
        producer = Producer({"bootstrap.servers": bootstrap, "message.send.max.retries": 0})
        reports = []
        producer.produce(topic, value=b"x" * 5000, on_delivery=lambda err, msg: reports.append(err))
        producer.flush(10)
        check(len(reports) == 1 and reports[0] is not None and reports[0].code() == MESSAGE_TOO_LARGE,
              "delivery %r" % reports)
        result["message_too_large"] = reports[0].name()

        step = "validate only changes nothing"
        incremental("topic", topic, [ConfigEntry("max.message.bytes", "999",
                                                 incremental_operation=AlterConfigOpType.SET)],
                    validate_only=True).result(10)
        check(describe("topic", topic)["max.message.bytes"].value == "2000", "validate only")

        step = "refusals"
        missing = "missing-" + topic
        result["unknown_topic"] = expect_error(UNKNOWN_TOPIC_OR_PARTITION, incremental("topic", missing, [
            ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.SET)]))
        result["invalid_value"] = expect_error(INVALID_CONFIG, incremental("topic", topic, [
            ConfigEntry("segment.bytes", "1", incremental_operation=AlterConfigOpType.SET)]))
        result["unknown_key"] = expect_error(INVALID_CONFIG, incremental("topic", topic, [
            ConfigEntry("no.such.config", "1", incremental_operation=AlterConfigOpType.SET)]))
        result["append_to_non_list"] = expect_error(INVALID_CONFIG, incremental("topic", topic, [
            ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.APPEND)]))

        step = "describe broker"
        broker = describe("broker", NODE_ID)
        check(broker["log.segment.bytes"].source in (ConfigSource.DEFAULT_CONFIG.value,
                                                     ConfigSource.DYNAMIC_BROKER_CONFIG.value), "%r" % broker)
        check(broker["port"].is_read_only and broker["port"].source == ConfigSource.STATIC_BROKER_CONFIG.value,
              "%r" % broker["port"])
        result["topic"] = topic
    except Exception as error:  # noqa: BLE001
        fail(step, error)
    result["ok"] = True
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    client, bootstrap, phase = sys.argv[1], sys.argv[2], sys.argv[3]
    existing = sys.argv[4] if len(sys.argv) > 4 else None
    {"kafka-python": run_kafka_python, "confluent": run_confluent}[client](bootstrap, phase, existing)
