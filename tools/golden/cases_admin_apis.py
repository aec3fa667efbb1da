# Golden cases for CreatePartitions, DeleteRecords, DescribeCluster, AlterConfigs and
# IncrementalAlterConfigs: one realistic request and
# response each, encoded by gen_wire_golden.py at every version both kafka-python and Tern know.
# Values are dicts keyed by the schema's field names; fields left out get a deterministic
# non-default value.
from kafka.protocol.admin import (
    AlterConfigsRequest, AlterConfigsResponse, CreatePartitionsRequest, CreatePartitionsResponse,
    DeleteRecordsRequest, DeleteRecordsResponse, DescribeClusterRequest, DescribeClusterResponse,
    IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse,
)

MESSAGES = [
    (CreatePartitionsRequest, {
        "Topics": [
            {"Name": "orders", "Count": 6, "Assignments": [{"BrokerIds": [1]}, {"BrokerIds": [1, 2]}]},
            {"Name": "payments", "Count": 3, "Assignments": None},
        ],
        "TimeoutMs": 30000, "ValidateOnly": True,
    }),
    (CreatePartitionsResponse, {
        "ThrottleTimeMs": 0,
        "Results": [
            {"Name": "orders", "ErrorCode": 0, "ErrorMessage": None},
            {"Name": "payments", "ErrorCode": 37, "ErrorMessage": "Topic already has 3 partition(s)."},
        ],
    }),
    (DeleteRecordsRequest, {
        "Topics": [
            {"Name": "orders", "Partitions": [{"PartitionIndex": 0, "Offset": 42}, {"PartitionIndex": 1, "Offset": -1}]},
        ],
        "TimeoutMs": 30000,
    }),
    (DeleteRecordsResponse, {
        "ThrottleTimeMs": 0,
        "Topics": [
            {"Name": "orders", "Partitions": [
                {"PartitionIndex": 0, "LowWatermark": 42, "ErrorCode": 0},
                {"PartitionIndex": 1, "LowWatermark": -1, "ErrorCode": 1}]},
        ],
    }),
    (DescribeClusterRequest, {"IncludeClusterAuthorizedOperations": True, "EndpointType": 1}),
    (DescribeClusterResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "EndpointType": 1,
        "ClusterId": "tern-cluster", "ControllerId": 1,
        "Brokers": [{"BrokerId": 1, "Host": "localhost", "Port": 9092, "Rack": None}],
        "ClusterAuthorizedOperations": 8096,
    }),
    (AlterConfigsRequest, {
        "Resources": [
            {"ResourceType": 2, "ResourceName": "orders",
             "Configs": [{"Name": "retention.ms", "Value": "3600000"}, {"Name": "flush.ms", "Value": None}]},
            {"ResourceType": 4, "ResourceName": "0", "Configs": [{"Name": "log.retention.ms", "Value": "60000"}]},
        ],
        "ValidateOnly": True,
    }),
    (AlterConfigsResponse, {
        "ThrottleTimeMs": 0,
        "Responses": [
            {"ErrorCode": 0, "ErrorMessage": None, "ResourceType": 2, "ResourceName": "orders"},
            {"ErrorCode": 42, "ErrorMessage": "Cannot update these configs dynamically", "ResourceType": 4,
             "ResourceName": "0"},
        ],
    }),
    (IncrementalAlterConfigsRequest, {
        "Resources": [
            {"ResourceType": 2, "ResourceName": "orders", "Configs": [
                {"Name": "cleanup.policy", "ConfigOperation": 2, "Value": "compact"},
                {"Name": "retention.ms", "ConfigOperation": 1, "Value": None}]},
        ],
        "ValidateOnly": False,
    }),
    (IncrementalAlterConfigsResponse, {
        "ThrottleTimeMs": 0,
        "Responses": [
            {"ErrorCode": 40, "ErrorMessage": "unknown topic config 'x'", "ResourceType": 2, "ResourceName": "orders"},
        ],
    }),
]
