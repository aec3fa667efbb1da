# Golden cases for Metadata, Produce, Fetch, ListOffsets, CreateTopics, DeleteTopics,
# InitProducerId, DescribeConfigs and OffsetForLeaderEpoch: one realistic request and response each, encoded by
# gen_wire_golden.py at every version both kafka-python and Tern know. Values are dicts keyed by
# the schema's field names; fields left out get a deterministic non-default value.
import uuid

from kafka.protocol.admin import (
    CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
    DescribeConfigsRequest, DescribeConfigsResponse,
)
from kafka.protocol.consumer import (
    FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse, OffsetForLeaderEpochRequest,
    OffsetForLeaderEpochResponse,
)
from kafka.protocol.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.producer import InitProducerIdRequest, InitProducerIdResponse, ProduceRequest, ProduceResponse

RECORDS = bytes.fromhex("000000000000000a0000003c")  # opaque to the wire codec
ORDERS_ID = uuid.UUID("6f1c2a4e-93d1-4b0c-8a57-0d3e5f6a7b8c")
PAYMENTS_ID = uuid.UUID("0a0b0c0d-0e0f-4011-9213-141516171819")

MESSAGES = [
    (MetadataRequest, {
        "Topics": [{"TopicId": ORDERS_ID, "Name": "orders"}, {"TopicId": PAYMENTS_ID, "Name": "payments"}],
        "AllowAutoTopicCreation": False,
        "IncludeClusterAuthorizedOperations": True,
        "IncludeTopicAuthorizedOperations": True,
    }),
    (MetadataResponse, {
        "ThrottleTimeMs": 5,
        "Brokers": [
            {"NodeId": 1, "Host": "broker-1", "Port": 9092, "Rack": "rack-a"},
            {"NodeId": 2, "Host": "broker-2", "Port": 9093, "Rack": None},
        ],
        "ClusterId": "tern-cluster",
        "ControllerId": 2,
        "Topics": [
            {"ErrorCode": 0, "Name": "__consumer_offsets", "TopicId": ORDERS_ID, "IsInternal": True,
             "Partitions": [
                 {"ErrorCode": 0, "PartitionIndex": 0, "LeaderId": 1, "LeaderEpoch": 3, "ReplicaNodes": [1, 2],
                  "IsrNodes": [1], "OfflineReplicas": [2]},
                 {"ErrorCode": 5, "PartitionIndex": 1, "LeaderId": -1, "LeaderEpoch": -1, "ReplicaNodes": [2],
                  "IsrNodes": [], "OfflineReplicas": []}],
             "TopicAuthorizedOperations": 0x0F80},
            {"ErrorCode": 3, "Name": "missing", "TopicId": uuid.UUID(int=0), "IsInternal": False, "Partitions": [],
             "TopicAuthorizedOperations": 0},
        ],
        "ClusterAuthorizedOperations": 0x0880,
    }),
    (ProduceRequest, {
        "TransactionalId": "tx-1", "Acks": -1, "TimeoutMs": 30000,
        "TopicData": [
            {"Name": "orders", "PartitionData": [{"Index": 0, "Records": RECORDS}, {"Index": 2, "Records": None}]},
        ],
    }),
    (ProduceResponse, {
        "Responses": [{"Name": "orders", "PartitionResponses": [
            {"Index": 0, "ErrorCode": 0, "BaseOffset": 42, "LogAppendTimeMs": 1700000000000, "LogStartOffset": 7,
             "RecordErrors": [], "ErrorMessage": None, "CurrentLeader": {"LeaderId": -1, "LeaderEpoch": -1}},
            {"Index": 2, "ErrorCode": 6, "BaseOffset": -1, "LogAppendTimeMs": -1, "LogStartOffset": -1,
             "RecordErrors": [{"BatchIndex": 3, "BatchIndexErrorMessage": "CRC mismatch"}],
             "ErrorMessage": "This server is not the leader for that topic-partition.",
             "CurrentLeader": {"LeaderId": 2, "LeaderEpoch": 9}},
        ]}],
        "ThrottleTimeMs": 10,
        "NodeEndpoints": [{"NodeId": 2, "Host": "broker-2", "Port": 9093, "Rack": None}],
    }),
    (FetchRequest, {
        "ClusterId": "tern-cluster", "ReplicaId": -1,
        "ReplicaState": {"ReplicaId": -1, "ReplicaEpoch": -1},
        "MaxWaitMs": 500, "MinBytes": 1, "MaxBytes": 52428800, "IsolationLevel": 1,
        "SessionId": 7, "SessionEpoch": 3,
        "Topics": [{"Topic": "orders", "TopicId": ORDERS_ID, "Partitions": [
            {"Partition": 0, "CurrentLeaderEpoch": 2, "FetchOffset": 10, "LastFetchedEpoch": 2,
             "LogStartOffset": -1, "PartitionMaxBytes": 1048576, "ReplicaDirectoryId": uuid.UUID(int=0)},
            {"Partition": 1, "CurrentLeaderEpoch": -1, "FetchOffset": 0, "LastFetchedEpoch": -1,
             "LogStartOffset": -1, "PartitionMaxBytes": 1048576, "ReplicaDirectoryId": PAYMENTS_ID}]}],
        "ForgottenTopicsData": [{"Topic": "old", "TopicId": PAYMENTS_ID, "Partitions": [1, 2]}],
        "RackId": "rack-a",
    }),
    (FetchResponse, {
        "ThrottleTimeMs": 1, "ErrorCode": 0, "SessionId": 7,
        "Responses": [{"Topic": "orders", "TopicId": ORDERS_ID, "Partitions": [
            {"PartitionIndex": 0, "ErrorCode": 0, "HighWatermark": 100, "LastStableOffset": 90, "LogStartOffset": 0,
             "DivergingEpoch": {"Epoch": -1, "EndOffset": -1}, "CurrentLeader": {"LeaderId": -1, "LeaderEpoch": -1},
             "SnapshotId": {"EndOffset": -1, "Epoch": -1},
             "AbortedTransactions": [{"ProducerId": 5, "FirstOffset": 20}], "PreferredReadReplica": -1,
             "Records": RECORDS},
            {"PartitionIndex": 1, "ErrorCode": 74, "HighWatermark": -1, "LastStableOffset": -1,
             "LogStartOffset": -1, "DivergingEpoch": {"Epoch": 4, "EndOffset": 77},
             "CurrentLeader": {"LeaderId": 2, "LeaderEpoch": 5}, "SnapshotId": {"EndOffset": 60, "Epoch": 3},
             "AbortedTransactions": None, "PreferredReadReplica": 2, "Records": None}]}],
        "NodeEndpoints": [{"NodeId": 2, "Host": "broker-2", "Port": 9093, "Rack": "rack-b"}],
    }),
    (ListOffsetsRequest, {
        "ReplicaId": -1, "IsolationLevel": 1,
        "Topics": [{"Name": "orders", "Partitions": [
            {"PartitionIndex": 0, "CurrentLeaderEpoch": 4, "Timestamp": -2, "MaxNumOffsets": 1},
            {"PartitionIndex": 1, "CurrentLeaderEpoch": -1, "Timestamp": 1700000000000, "MaxNumOffsets": 1}]}],
        "TimeoutMs": 30000,
    }),
    (ListOffsetsResponse, {
        "ThrottleTimeMs": 3,
        "Topics": [{"Name": "orders", "Partitions": [
            {"PartitionIndex": 0, "ErrorCode": 0, "OldStyleOffsets": [17], "Timestamp": 1700000000000,
             "Offset": 17, "LeaderEpoch": 4},
            {"PartitionIndex": 1, "ErrorCode": 3, "OldStyleOffsets": [], "Timestamp": -1, "Offset": -1,
             "LeaderEpoch": -1}]}],
    }),
    (CreateTopicsRequest, {
        "Topics": [
            {"Name": "orders", "NumPartitions": 3, "ReplicationFactor": 1, "Assignments": [],
             "Configs": [{"Name": "cleanup.policy", "Value": "compact"}]},
            {"Name": "manual", "NumPartitions": -1, "ReplicationFactor": -1,
             "Assignments": [{"PartitionIndex": 0, "BrokerIds": [1, 2]}, {"PartitionIndex": 1, "BrokerIds": [2, 1]}],
             "Configs": [{"Name": "retention.ms", "Value": None}]},
        ],
        "timeoutMs": 60000, "validateOnly": True,
    }),
    (CreateTopicsResponse, {
        "ThrottleTimeMs": 0,
        "Topics": [
            {"Name": "orders", "TopicId": ORDERS_ID, "ErrorCode": 0, "ErrorMessage": None, "TopicConfigErrorCode": 0,
             "NumPartitions": 3, "ReplicationFactor": 1,
             "Configs": [{"Name": "cleanup.policy", "Value": "compact", "ReadOnly": False, "ConfigSource": 1,
                          "IsSensitive": False},
                         {"Name": "sasl.jaas.config", "Value": None, "ReadOnly": True, "ConfigSource": 4,
                          "IsSensitive": True}]},
            {"Name": "manual", "TopicId": uuid.UUID(int=0), "ErrorCode": 36,
             "ErrorMessage": "Topic 'manual' already exists.", "TopicConfigErrorCode": 40,
             "NumPartitions": -1, "ReplicationFactor": -1, "Configs": []},
        ],
    }),
    (DeleteTopicsRequest, {
        "Topics": [{"Name": "orders", "TopicId": uuid.UUID(int=0)}, {"Name": None, "TopicId": PAYMENTS_ID}],
        "TopicNames": ["orders", "manual"], "TimeoutMs": 30000,
    }),
    (DeleteTopicsResponse, {
        "ThrottleTimeMs": 2,
        "Responses": [
            {"Name": "orders", "TopicId": ORDERS_ID, "ErrorCode": 0, "ErrorMessage": None},
            {"Name": lambda v: None if v >= 6 else "gone", "TopicId": PAYMENTS_ID, "ErrorCode": 3,
             "ErrorMessage": "This server does not host this topic-partition."},
        ],
    }),
    (InitProducerIdRequest, {
        "TransactionalId": "tx-1", "TransactionTimeoutMs": 60000, "ProducerId": 1000, "ProducerEpoch": 4,
    }),
    (InitProducerIdResponse, {"ThrottleTimeMs": 0, "ErrorCode": 0, "ProducerId": 1000, "ProducerEpoch": 5}),
    (DescribeConfigsRequest, {
        "Resources": [
            {"ResourceType": 2, "ResourceName": "orders", "ConfigurationKeys": ["cleanup.policy", "retention.ms"]},
            {"ResourceType": 4, "ResourceName": "1", "ConfigurationKeys": None},
        ],
        "IncludeSynonyms": True, "IncludeDocumentation": True,
    }),
    (DescribeConfigsResponse, {
        "ThrottleTimeMs": 4,
        "Results": [
            {"ErrorCode": 0, "ErrorMessage": None, "ResourceType": 2, "ResourceName": "orders", "Configs": [
                {"Name": "cleanup.policy", "Value": "compact", "ReadOnly": False, "ConfigSource": 1,
                 "IsDefault": False, "IsSensitive": False,
                 "Synonyms": [{"Name": "cleanup.policy", "Value": "compact", "Source": 1},
                              {"Name": "log.cleanup.policy", "Value": "delete", "Source": 5}],
                 "ConfigType": 7, "Documentation": "The cleanup policy."},
                {"Name": "sasl.jaas.config", "Value": None, "ReadOnly": True, "ConfigSource": 4,
                 "IsDefault": False, "IsSensitive": True, "Synonyms": [], "ConfigType": 9, "Documentation": None}]},
            {"ErrorCode": 3, "ErrorMessage": "Topic missing does not exist", "ResourceType": 2,
             "ResourceName": "missing", "Configs": []},
        ],
    }),
    (OffsetForLeaderEpochRequest, {
        "ReplicaId": -1,
        "Topics": [
            {"Topic": "orders", "Partitions": [
                {"Partition": 0, "CurrentLeaderEpoch": 5, "LeaderEpoch": 3},
                {"Partition": 1, "CurrentLeaderEpoch": -1, "LeaderEpoch": 0}]},
        ],
    }),
    (OffsetForLeaderEpochResponse, {
        "ThrottleTimeMs": 0,
        "Topics": [
            {"Topic": "orders", "Partitions": [
                {"ErrorCode": 0, "Partition": 0, "LeaderEpoch": 2, "EndOffset": 1500},
                {"ErrorCode": 74, "Partition": 1, "LeaderEpoch": -1, "EndOffset": -1}]},
        ],
    }),
]
