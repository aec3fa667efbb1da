# Golden cases for the consumer-group APIs (FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
# LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups, OffsetDelete)
# and the consumer-protocol payloads they carry. One realistic request and response each, encoded by
# gen_wire_golden.py at every version both kafka-python and Tern know. Values are dicts keyed by
# the schema's field names; fields left out get a deterministic non-default value.
import uuid

from kafka.protocol.admin.groups import (
    DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse, ListGroupsRequest,
    ListGroupsResponse)
from kafka.protocol.consumer.group import (
    HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse,
    OffsetFetchRequest, OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse)
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment, ConsumerProtocolSubscription
from kafka.protocol.metadata.find_coordinator import FindCoordinatorRequest, FindCoordinatorResponse

SubscriptionTP = ConsumerProtocolSubscription.TopicPartition
AssignmentTP = ConsumerProtocolAssignment.TopicPartition

# The consumer-protocol payloads embedded below (and golden on their own).
SUBSCRIPTION_V0 = ConsumerProtocolSubscription(version=0, topics=["kp_t"], user_data=b"")
SUBSCRIPTION_V3 = ConsumerProtocolSubscription(
    version=3, topics=["a", "b"], user_data=None,
    owned_partitions=[SubscriptionTP(topic="a", partitions=[0, 2])], generation_id=7, rack_id="r1")
ASSIGNMENT_V0 = ConsumerProtocolAssignment(
    version=0, assigned_partitions=[AssignmentTP(topic="ck_t", partitions=[0, 1])], user_data=b"")
ASSIGNMENT_V3 = ConsumerProtocolAssignment(
    version=3, assigned_partitions=[AssignmentTP(topic="a", partitions=[1]), AssignmentTP(topic="b", partitions=[])],
    user_data=b"\x01\x02")

SUB0 = bytes(SUBSCRIPTION_V0.encode())
SUB3 = bytes(SUBSCRIPTION_V3.encode())
ASSIGN0 = bytes(ASSIGNMENT_V0.encode())
ASSIGN3 = bytes(ASSIGNMENT_V3.encode())
ORDERS_ID = uuid.UUID("6f1c2a4e-93d1-4b0c-8a57-0d3e5f6a7b8c")

# Consumer protocol payloads (int16 version prefix included): name -> kafka-python object.
PAYLOADS = [
    ("consumer_subscription_v0", SUBSCRIPTION_V0),
    ("consumer_subscription_v1", ConsumerProtocolSubscription(
        version=1, topics=["a"], user_data=b"\x09", owned_partitions=[SubscriptionTP(topic="a", partitions=[4])])),
    ("consumer_subscription_v3", SUBSCRIPTION_V3),
    ("consumer_assignment_v0", ASSIGNMENT_V0),
    ("consumer_assignment_v3", ASSIGNMENT_V3),
]

MESSAGES = [
    (FindCoordinatorRequest, {"Key": "g1", "KeyType": 0, "CoordinatorKeys": ["g1", "g2"]}),
    (FindCoordinatorResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "NodeId": 1, "Host": "broker-1", "Port": 9092,
        "Coordinators": [
            {"Key": "g1", "NodeId": 1, "Host": "broker-1", "Port": 9092, "ErrorCode": 0, "ErrorMessage": None},
            {"Key": "g2", "NodeId": -1, "Host": "", "Port": -1, "ErrorCode": 15,
             "ErrorMessage": "The coordinator is not available."},
        ],
    }),
    (JoinGroupRequest, {
        "GroupId": "g1", "SessionTimeoutMs": 45000, "RebalanceTimeoutMs": 300000, "MemberId": "",
        "GroupInstanceId": "instance-1", "ProtocolType": "consumer",
        "Protocols": [{"Name": "range", "Metadata": SUB0}, {"Name": "cooperative-sticky", "Metadata": SUB3}],
        "Reason": "rebalance requested",
    }),
    (JoinGroupResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0, "GenerationId": 3, "ProtocolType": "consumer", "ProtocolName": "range",
        "Leader": "m-1", "SkipAssignment": False, "MemberId": "m-1",
        "Members": [{"MemberId": "m-1", "GroupInstanceId": None, "Metadata": SUB0},
                    {"MemberId": "m-2", "GroupInstanceId": "instance-2", "Metadata": SUB3}],
    }),
    (HeartbeatRequest, {"GroupId": "g1", "GenerationId": 3, "MemberId": "m-1", "GroupInstanceId": "instance-1"}),
    (HeartbeatResponse, {"ThrottleTimeMs": 0, "ErrorCode": 27}),
    (LeaveGroupRequest, {
        "GroupId": "g1", "MemberId": "m-1",
        "Members": [{"MemberId": "m-1", "GroupInstanceId": None, "Reason": "the consumer is being closed"},
                    {"MemberId": "", "GroupInstanceId": "instance-2", "Reason": None}],
    }),
    (LeaveGroupResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0,
        "Members": [{"MemberId": "m-1", "GroupInstanceId": None, "ErrorCode": 0},
                    {"MemberId": "", "GroupInstanceId": "instance-2", "ErrorCode": 25}],
    }),
    (SyncGroupRequest, {
        "GroupId": "g1", "GenerationId": 3, "MemberId": "m-1", "GroupInstanceId": None,
        "ProtocolType": "consumer", "ProtocolName": "range",
        "Assignments": [{"MemberId": "m-1", "Assignment": ASSIGN0}, {"MemberId": "m-2", "Assignment": ASSIGN3}],
    }),
    (SyncGroupResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0, "ProtocolType": "consumer", "ProtocolName": "range",
        "Assignment": ASSIGN0,
    }),
    (OffsetCommitRequest, {
        "GroupId": "g1", "GenerationIdOrMemberEpoch": 3, "MemberId": "m-1", "GroupInstanceId": None,
        "RetentionTimeMs": -1,
        "Topics": [{"Name": "orders", "TopicId": ORDERS_ID, "Partitions": [
            {"PartitionIndex": 0, "CommittedOffset": 42, "CommittedLeaderEpoch": 2, "CommitTimestamp": -1,
             "CommittedMetadata": "checkpoint-1"},
            {"PartitionIndex": 3, "CommittedOffset": 7, "CommittedLeaderEpoch": -1, "CommitTimestamp": 1700000000000,
             "CommittedMetadata": None}]}],
    }),
    (OffsetCommitResponse, {
        "ThrottleTimeMs": 0,
        "Topics": [{"Name": "orders", "TopicId": ORDERS_ID, "Partitions": [
            {"PartitionIndex": 0, "ErrorCode": 0}, {"PartitionIndex": 3, "ErrorCode": 22}]}],
    }),
    (OffsetFetchRequest, {
        "GroupId": "g1",
        "Topics": lambda v: [{"Name": "orders", "PartitionIndexes": [0, 3]}] if v < 2 else None,
        "Groups": [{"GroupId": "g1", "MemberId": "m-1", "MemberEpoch": 5,
                    "Topics": [{"Name": "orders", "TopicId": ORDERS_ID, "PartitionIndexes": [0, 3]}]},
                   {"GroupId": "g2", "MemberId": None, "MemberEpoch": -1, "Topics": None}],
        "RequireStable": True,
    }),
    (OffsetFetchResponse, {
        "ThrottleTimeMs": 0,
        "Topics": [{"Name": "orders", "Partitions": [
            {"PartitionIndex": 0, "CommittedOffset": 42, "CommittedLeaderEpoch": 2, "Metadata": "checkpoint-1",
             "ErrorCode": 0},
            {"PartitionIndex": 3, "CommittedOffset": -1, "CommittedLeaderEpoch": -1, "Metadata": None,
             "ErrorCode": 0}]}],
        "ErrorCode": 0,
        "Groups": [
            {"GroupId": "g1", "Topics": [{"Name": "orders", "TopicId": ORDERS_ID, "Partitions": [
                {"PartitionIndex": 0, "CommittedOffset": 42, "CommittedLeaderEpoch": 2, "Metadata": "checkpoint-1",
                 "ErrorCode": 0}]}], "ErrorCode": 0},
            {"GroupId": "g2", "Topics": [], "ErrorCode": 16},
        ],
    }),
    (DescribeGroupsRequest, {"Groups": ["g1", "g2"], "IncludeAuthorizedOperations": True}),
    (DescribeGroupsResponse, {
        "ThrottleTimeMs": 0,
        "Groups": [
            {"ErrorCode": 0, "ErrorMessage": None, "GroupId": "g1", "GroupState": "Stable",
             "ProtocolType": "consumer", "ProtocolData": "range",
             "Members": [{"MemberId": "m-1", "GroupInstanceId": "instance-1", "ClientId": "rdkafka",
                          "ClientHost": "/10.0.0.5", "MemberMetadata": SUB0, "MemberAssignment": ASSIGN0}],
             "AuthorizedOperations": 0x0F00},
            {"ErrorCode": 69, "ErrorMessage": "Group g2 not found.", "GroupId": "g2", "GroupState": "Dead",
             "ProtocolType": "", "ProtocolData": "", "Members": [], "AuthorizedOperations": 0},
        ],
    }),
    (ListGroupsRequest, {"StatesFilter": ["Stable", "Empty"], "TypesFilter": ["classic"]}),
    (ListGroupsResponse, {
        "ThrottleTimeMs": 11, "ErrorCode": 0,
        "Groups": [{"GroupId": "g1", "ProtocolType": "consumer", "GroupState": "Stable", "GroupType": "classic"},
                   {"GroupId": "offsets-only", "ProtocolType": "", "GroupState": "Empty", "GroupType": "classic"}],
    }),
    (DeleteGroupsRequest, {"GroupsNames": ["g1", "g2"]}),
    (DeleteGroupsResponse, {
        "ThrottleTimeMs": 5, "Results": [{"GroupId": "g1", "ErrorCode": 0}, {"GroupId": "g2", "ErrorCode": 68}],
    }),
    (OffsetDeleteRequest, {
        "GroupId": "g1", "Topics": [{"Name": "orders", "Partitions": [{"PartitionIndex": 0}, {"PartitionIndex": 2}]}],
    }),
    (OffsetDeleteResponse, {
        "ErrorCode": 0, "ThrottleTimeMs": 0,
        "Topics": [{"Name": "orders", "Partitions": [{"PartitionIndex": 0, "ErrorCode": 0},
                                                     {"PartitionIndex": 2, "ErrorCode": 86}]}],
    }),
]
