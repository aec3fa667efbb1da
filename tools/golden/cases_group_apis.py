from kafka.protocol.admin.groups import (
    DescribeGroupsRequest, DescribeGroupsResponse, ListGroupsRequest, ListGroupsResponse)
from kafka.protocol.consumer.group import (
    HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse,
    SyncGroupRequest, SyncGroupResponse)
from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment, ConsumerProtocolSubscription
from kafka.protocol.metadata.find_coordinator import FindCoordinatorRequest, FindCoordinatorResponse

JoinProtocol = JoinGroupRequest.JoinGroupRequestProtocol
JoinMember = JoinGroupResponse.JoinGroupResponseMember
SyncAssignment = SyncGroupRequest.SyncGroupRequestAssignment
CommitTopic = OffsetCommitRequest.OffsetCommitRequestTopic
CommitPartition = CommitTopic.OffsetCommitRequestPartition
CommitResponseTopic = OffsetCommitResponse.OffsetCommitResponseTopic
CommitResponsePartition = CommitResponseTopic.OffsetCommitResponsePartition
FetchTopic = OffsetFetchRequest.OffsetFetchRequestTopic
FetchResponseTopic = OffsetFetchResponse.OffsetFetchResponseTopic
FetchResponsePartition = FetchResponseTopic.OffsetFetchResponsePartition
DescribedGroup = DescribeGroupsResponse.DescribedGroup
DescribedMember = DescribedGroup.DescribedGroupMember
ListedGroup = ListGroupsResponse.ListedGroup
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

CASES = [
    # FindCoordinator
    ("find_coordinator_request_v0", FindCoordinatorRequest[0](key="g1")),
    ("find_coordinator_request_v1", FindCoordinatorRequest[1](key="txn-1", key_type=1)),
    ("find_coordinator_response_v0", FindCoordinatorResponse[0](error_code=0, node_id=1, host="localhost", port=9092)),
    ("find_coordinator_response_v1", FindCoordinatorResponse[1](
        throttle_time_ms=5, error_code=15, error_message="loading", node_id=-1, host="", port=-1)),
    ("find_coordinator_response_v1_null_message", FindCoordinatorResponse[1](
        throttle_time_ms=0, error_code=0, error_message=None, node_id=3, host="b3", port=9093)),
    # JoinGroup
    ("join_group_request_v0", JoinGroupRequest[0](
        group_id="g1", session_timeout_ms=10000, member_id="", protocol_type="consumer",
        protocols=[JoinProtocol(name="range", metadata=SUBSCRIPTION_V0.encode())])),
    ("join_group_request_v2", JoinGroupRequest[2](
        group_id="g1", session_timeout_ms=10000, rebalance_timeout_ms=300000, member_id="m-1",
        protocol_type="consumer",
        protocols=[JoinProtocol(name="range", metadata=SUBSCRIPTION_V3.encode()),
                   JoinProtocol(name="roundrobin", metadata=b"")])),
    ("join_group_response_v0", JoinGroupResponse[0](
        error_code=0, generation_id=1, protocol_name="range", leader="m-1", member_id="m-1",
        members=[JoinMember(member_id="m-1", metadata=SUBSCRIPTION_V0.encode())])),
    ("join_group_response_v2", JoinGroupResponse[2](
        throttle_time_ms=3, error_code=27, generation_id=-1, protocol_name="", leader="", member_id="m-2",
        members=[])),
    # SyncGroup
    ("sync_group_request_v0", SyncGroupRequest[0](
        group_id="g1", generation_id=1, member_id="m-1",
        assignments=[SyncAssignment(member_id="m-1", assignment=ASSIGNMENT_V0.encode())])),
    ("sync_group_request_v1", SyncGroupRequest[1](group_id="g1", generation_id=2, member_id="m-2", assignments=[])),
    ("sync_group_response_v0", SyncGroupResponse[0](error_code=0, assignment=ASSIGNMENT_V0.encode())),
    ("sync_group_response_v1", SyncGroupResponse[1](throttle_time_ms=9, error_code=22, assignment=b"")),
    # Heartbeat
    ("heartbeat_request_v0", HeartbeatRequest[0](group_id="g1", generation_id=1, member_id="m-1")),
    ("heartbeat_request_v1", HeartbeatRequest[1](group_id="g1", generation_id=4, member_id="m-2")),
    ("heartbeat_response_v0", HeartbeatResponse[0](error_code=27)),
    ("heartbeat_response_v1", HeartbeatResponse[1](throttle_time_ms=1, error_code=0)),
    # LeaveGroup
    ("leave_group_request_v0", LeaveGroupRequest[0](group_id="g1", member_id="m-1")),
    ("leave_group_request_v1", LeaveGroupRequest[1](group_id="g2", member_id="m-2")),
    ("leave_group_response_v0", LeaveGroupResponse[0](error_code=25)),
    ("leave_group_response_v1", LeaveGroupResponse[1](throttle_time_ms=2, error_code=0)),
    # OffsetCommit
    ("offset_commit_request_v2", OffsetCommitRequest[2](
        group_id="g1", generation_id_or_member_epoch=1, member_id="m-1", retention_time_ms=-1,
        topics=[CommitTopic(name="t", partitions=[
            CommitPartition(partition_index=0, committed_offset=42, committed_metadata=""),
            CommitPartition(partition_index=1, committed_offset=7, committed_metadata=None)])])),
    ("offset_commit_request_v3", OffsetCommitRequest[3](
        group_id="standalone", generation_id_or_member_epoch=-1, member_id="", retention_time_ms=86400000,
        topics=[CommitTopic(name="t", partitions=[
            CommitPartition(partition_index=3, committed_offset=1000, committed_metadata="meta")])])),
    ("offset_commit_response_v2", OffsetCommitResponse[2](topics=[CommitResponseTopic(name="t", partitions=[
        CommitResponsePartition(partition_index=0, error_code=0),
        CommitResponsePartition(partition_index=1, error_code=12)])])),
    ("offset_commit_response_v3", OffsetCommitResponse[3](throttle_time_ms=4, topics=[
        CommitResponseTopic(name="t", partitions=[CommitResponsePartition(partition_index=3, error_code=0)])])),
    # OffsetFetch
    ("offset_fetch_request_v1", OffsetFetchRequest[1](
        group_id="g1", topics=[FetchTopic(name="t", partition_indexes=[0, 1])])),
    ("offset_fetch_request_v3", OffsetFetchRequest[3](
        group_id="g1", topics=[FetchTopic(name="t", partition_indexes=[2])])),
    ("offset_fetch_request_v3_all", OffsetFetchRequest[3](group_id="g1", topics=None)),
    ("offset_fetch_response_v1", OffsetFetchResponse[1](topics=[FetchResponseTopic(name="t", partitions=[
        FetchResponsePartition(partition_index=0, committed_offset=42, metadata="", error_code=0),
        FetchResponsePartition(partition_index=1, committed_offset=-1, metadata=None, error_code=0)])])),
    ("offset_fetch_response_v3", OffsetFetchResponse[3](throttle_time_ms=6, error_code=14, topics=[
        FetchResponseTopic(name="t", partitions=[
            FetchResponsePartition(partition_index=2, committed_offset=5, metadata="m", error_code=0)])])),
    # DescribeGroups
    ("describe_groups_request_v0", DescribeGroupsRequest[0](groups=["g1", "g2"])),
    ("describe_groups_request_v4", DescribeGroupsRequest[4](groups=["g1"], include_authorized_operations=True)),
    ("describe_groups_response_v0", DescribeGroupsResponse[0](groups=[DescribedGroup(
        error_code=0, group_id="g1", group_state="Stable", protocol_type="consumer", protocol_data="range",
        members=[DescribedMember(member_id="m-1", client_id="c", client_host="/127.0.0.1",
                                 member_metadata=SUBSCRIPTION_V0.encode(), member_assignment=ASSIGNMENT_V0.encode())])])),
    ("describe_groups_response_v4", DescribeGroupsResponse[4](throttle_time_ms=8, groups=[
        DescribedGroup(error_code=0, group_id="g1", group_state="Stable", protocol_type="consumer",
                       protocol_data="range", authorized_operations={3, 8},
                       members=[DescribedMember(member_id="m-1", group_instance_id="i-1", client_id="c",
                                                client_host="/10.0.0.1", member_metadata=b"\x00",
                                                member_assignment=b""),
                                DescribedMember(member_id="m-2", group_instance_id=None, client_id="c2",
                                                client_host="/10.0.0.2", member_metadata=b"",
                                                member_assignment=b"\x01")]),
        DescribedGroup(error_code=0, group_id="gone", group_state="Dead", protocol_type="", protocol_data="",
                       authorized_operations=None, members=[])])),
    # ListGroups
    ("list_groups_request_v0", ListGroupsRequest[0]()),
    ("list_groups_request_v2", ListGroupsRequest[2]()),
    ("list_groups_response_v0", ListGroupsResponse[0](error_code=0, groups=[
        ListedGroup(group_id="g1", protocol_type="consumer"), ListedGroup(group_id="offsets-only", protocol_type="")])),
    ("list_groups_response_v2", ListGroupsResponse[2](throttle_time_ms=11, error_code=14, groups=[])),
    # Consumer protocol payloads (int16 version prefix included).
    ("consumer_subscription_v0", SUBSCRIPTION_V0),
    ("consumer_subscription_v1", ConsumerProtocolSubscription(
        version=1, topics=["a"], user_data=b"\x09", owned_partitions=[SubscriptionTP(topic="a", partitions=[4])])),
    ("consumer_subscription_v3", SUBSCRIPTION_V3),
    ("consumer_assignment_v0", ASSIGNMENT_V0),
    ("consumer_assignment_v3", ASSIGNMENT_V3),
]

from kafka.protocol.admin.groups import DeleteGroupsRequest, DeleteGroupsResponse
from kafka.protocol.consumer.group import OffsetDeleteRequest, OffsetDeleteResponse

CASES += [
    ("delete_groups_request_v0", DeleteGroupsRequest[0](groups_names=["g1", "g2"])),
    ("delete_groups_request_v1", DeleteGroupsRequest[1](groups_names=["g1"])),
    ("delete_groups_response_v0", DeleteGroupsResponse[0](throttle_time_ms=0, results=[
        DeleteGroupsResponse.DeletableGroupResult(group_id="g1", error_code=0),
        DeleteGroupsResponse.DeletableGroupResult(group_id="g2", error_code=68)])),
    ("delete_groups_response_v1", DeleteGroupsResponse[1](throttle_time_ms=5, results=[
        DeleteGroupsResponse.DeletableGroupResult(group_id="g1", error_code=69)])),
    ("offset_delete_request_v0", OffsetDeleteRequest[0](group_id="g1", topics=[
        OffsetDeleteRequest.OffsetDeleteRequestTopic(name="t", partitions=[
            OffsetDeleteRequest.OffsetDeleteRequestTopic.OffsetDeleteRequestPartition(partition_index=0),
            OffsetDeleteRequest.OffsetDeleteRequestTopic.OffsetDeleteRequestPartition(partition_index=2)])])),
    ("offset_delete_response_v0", OffsetDeleteResponse[0](error_code=0, throttle_time_ms=0, topics=[
        OffsetDeleteResponse.OffsetDeleteResponseTopic(name="t", partitions=[
            OffsetDeleteResponse.OffsetDeleteResponseTopic.OffsetDeleteResponsePartition(partition_index=0, error_code=0),
            OffsetDeleteResponse.OffsetDeleteResponseTopic.OffsetDeleteResponsePartition(partition_index=2, error_code=86)])])),
]
