#!/usr/bin/env python3
"""Prints kafka-python's sticky assignor metadata as hex, for Tests/TernClientTests/StickyUserDataTests.swift.

Run with the repository's venv (kafka-python):  .venv/bin/python tools/gen_sticky_userdata_fixtures.py

kafka-python 3.x writes the StickyAssignorUserData with an int16 version prefix (ApiData.encode's
default header=True); Kafka's Java StickyAssignor (and librdkafka) write the v1 struct with no prefix.
Both forms are printed: the JoinGroup metadata kafka-python really sends, and the bare v1 body.
"""

from kafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from kafka.coordinator.assignors.sticky.user_data import StickyAssignorUserData
from kafka.structs import TopicPartition

TOPICS = ["topic-a", "topic-b"]
PARTITIONS = [TopicPartition("topic-b", 2), TopicPartition("topic-b", 0), TopicPartition("topic-a", 1)]
GENERATION = 7

metadata = StickyPartitionAssignor._metadata(TOPICS, PARTITIONS, GENERATION)
print("joinGroupMetadata", metadata.encode().hex())
print("userDataAsSent", metadata.user_data.encode().hex())
print("userDataV1Body", metadata.user_data.encode(header=False).hex())
# Topics in sorted order, as Tern groups them, so the bytes must equal Tern's encoding.
print("userDataV1SortedBody", StickyPartitionAssignor._metadata(TOPICS, sorted(PARTITIONS, key=lambda tp: tp.topic), GENERATION).user_data.encode(header=False).hex())
print("userDataV0Body", StickyAssignorUserData([("topic-a", [1])], version=0).encode(header=False).hex())
