# Golden cases for DescribeLogDirs, DescribeTopicPartitions, DescribeProducers,
# ListPartitionReassignments, ElectLeaders and DescribeClientQuotas: one realistic request and
# response each, encoded by gen_wire_golden.py at every version both kafka-python and Tern know.
# Values are dicts keyed by the schema's field names; fields left out get a deterministic
# non-default value.
import uuid

from kafka.protocol.admin import (
    DescribeClientQuotasRequest, DescribeClientQuotasResponse, DescribeLogDirsRequest, DescribeLogDirsResponse,
    DescribeProducersRequest, DescribeProducersResponse, DescribeTopicPartitionsRequest,
    DescribeTopicPartitionsResponse, ElectLeadersRequest, ElectLeadersResponse, ListPartitionReassignmentsRequest,
    ListPartitionReassignmentsResponse,
)

MESSAGES = [
    (DescribeLogDirsRequest, {"Topics": [{"Topic": "orders", "Partitions": [0, 1]}]}),
    (DescribeLogDirsResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0,
        "Results": [{
            "ErrorCode": 0, "LogDir": "/var/lib/tern",
            "Topics": [{"Name": "orders", "Partitions": [
                {"PartitionIndex": 0, "PartitionSize": 4096, "OffsetLag": 0, "IsFutureKey": False},
                {"PartitionIndex": 1, "PartitionSize": 0, "OffsetLag": 0, "IsFutureKey": False}]}],
            "TotalBytes": 1 << 40, "UsableBytes": 1 << 39,
        }],
    }),
    (DescribeTopicPartitionsRequest, {
        "Topics": [{"Name": "orders"}, {"Name": "payments"}], "ResponsePartitionLimit": 2,
        "Cursor": {"TopicName": "orders", "PartitionIndex": 1},
    }),
    (DescribeTopicPartitionsResponse, {
        "ThrottleTimeMs": 0,
        "Topics": [{
            "ErrorCode": 0, "Name": "orders", "TopicId": uuid.UUID("0af5c7a4-6f1a-4b0e-9d3c-2b7e8f9a1c2d"), "IsInternal": False,
            "Partitions": [{
                "ErrorCode": 0, "PartitionIndex": 1, "LeaderId": 0, "LeaderEpoch": 0, "ReplicaNodes": [0],
                "IsrNodes": [0], "EligibleLeaderReplicas": [], "LastKnownElr": [], "OfflineReplicas": [],
            }],
            "TopicAuthorizedOperations": 3576,
        }],
        "NextCursor": {"TopicName": "payments", "PartitionIndex": 0},
    }),
    (DescribeProducersRequest, {"Topics": [{"Name": "orders", "PartitionIndexes": [0, 3]}]}),
    (DescribeProducersResponse, {
        "ThrottleTimeMs": 0,
        "Topics": [{"Name": "orders", "Partitions": [
            {"PartitionIndex": 0, "ErrorCode": 0, "ErrorMessage": None, "ActiveProducers": [{
                "ProducerId": 1700000000000001, "ProducerEpoch": 0, "LastSequence": 4,
                "LastTimestamp": 1700000000500, "CoordinatorEpoch": -1, "CurrentTxnStartOffset": -1}]},
            {"PartitionIndex": 3, "ErrorCode": 3, "ErrorMessage": "This server does not host this topic-partition.",
             "ActiveProducers": []},
        ]}],
    }),
    (ListPartitionReassignmentsRequest, {"TimeoutMs": 30000, "Topics": [{"Name": "orders", "PartitionIndexes": [0]}]}),
    (ListPartitionReassignmentsResponse, {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "Topics": []}),
    (ElectLeadersRequest, {
        "ElectionType": 0, "TopicPartitions": [{"Topic": "orders", "Partitions": [0, 1]}], "TimeoutMs": 30000,
    }),
    (ElectLeadersResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0,
        "ReplicaElectionResults": [{"Topic": "orders", "PartitionResult": [
            {"PartitionId": 0, "ErrorCode": 84, "ErrorMessage": "Leader election not needed for topic partition."},
            {"PartitionId": 9, "ErrorCode": 3, "ErrorMessage": "No such partition as orders-9"}]}],
    }),
    (DescribeClientQuotasRequest, {
        "Components": [{"EntityType": "user", "MatchType": 0, "Match": "alice"},
                       {"EntityType": "client-id", "MatchType": 1, "Match": None}],
        "Strict": False,
    }),
    (DescribeClientQuotasResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None,
        "Entries": [{"Entity": [{"EntityType": "user", "EntityName": "alice"}],
                     "Values": [{"Key": "producer_byte_rate", "Value": 1048576.0}]}],
    }),
]
