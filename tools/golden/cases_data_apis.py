# Golden cases for Metadata, Produce, Fetch, ListOffsets, CreateTopics, DeleteTopics,
# InitProducerId and DescribeConfigs. Tests/TernWireTests/<Api>Tests.swift build the same values with
# Tern's types. Each API has a request and a response at its lowest and highest implemented version.
from kafka.protocol.admin import (
    CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
    DescribeConfigsRequest, DescribeConfigsResponse,
)
from kafka.protocol.consumer import FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse
from kafka.protocol.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.producer import InitProducerIdRequest, InitProducerIdResponse, ProduceRequest, ProduceResponse

MReqTopic = MetadataRequest.MetadataRequestTopic
MBroker = MetadataResponse.MetadataResponseBroker
MTopic = MetadataResponse.MetadataResponseTopic
MPartition = MTopic.MetadataResponsePartition

PTopic = ProduceRequest.TopicProduceData
PPartition = PTopic.PartitionProduceData
PRTopic = ProduceResponse.TopicProduceResponse
PRPartition = PRTopic.PartitionProduceResponse

FTopic = FetchRequest.FetchTopic
FPartition = FTopic.FetchPartition
FForgotten = FetchRequest.ForgottenTopic
FRTopic = FetchResponse.FetchableTopicResponse
FRPartition = FRTopic.PartitionData
FRAborted = FRPartition.AbortedTransaction

LTopic = ListOffsetsRequest.ListOffsetsTopic
LPartition = LTopic.ListOffsetsPartition
LRTopic = ListOffsetsResponse.ListOffsetsTopicResponse
LRPartition = LRTopic.ListOffsetsPartitionResponse

CTopic = CreateTopicsRequest.CreatableTopic
CAssignment = CTopic.CreatableReplicaAssignment
CConfig = CTopic.CreatableTopicConfig
CRTopic = CreateTopicsResponse.CreatableTopicResult

DTResult = DeleteTopicsResponse.DeletableTopicResult

DCResource = DescribeConfigsRequest.DescribeConfigsResource
DCResult = DescribeConfigsResponse.DescribeConfigsResult
DCConfig = DCResult.DescribeConfigsResourceResult
DCSynonym = DCConfig.DescribeConfigsSynonym

RECORDS = bytes.fromhex("000000000000000a0000003c")  # opaque to the wire codec

CASES = [
    # Metadata v1-v4
    ("metadata_request_v1_all_topics", MetadataRequest[1](topics=None)),
    ("metadata_request_v1_no_topics", MetadataRequest[1](topics=[])),
    ("metadata_request_v4", MetadataRequest[4](
        topics=[MReqTopic(name="orders"), MReqTopic(name="payments")], allow_auto_topic_creation=False)),
    ("metadata_response_v1", MetadataResponse[1](
        brokers=[MBroker(node_id=1, host="localhost", port=9092, rack=None)],
        controller_id=1,
        topics=[MTopic(error_code=0, name="orders", is_internal=False, partitions=[
            MPartition(error_code=0, partition_index=0, leader_id=1, replica_nodes=[1], isr_nodes=[1])])])),
    ("metadata_response_v4", MetadataResponse[4](
        throttle_time_ms=5,
        brokers=[MBroker(node_id=1, host="broker-1", port=9092, rack="rack-a"),
                 MBroker(node_id=2, host="broker-2", port=9093, rack=None)],
        cluster_id="tern-cluster",
        controller_id=2,
        topics=[
            MTopic(error_code=0, name="__consumer_offsets", is_internal=True, partitions=[
                MPartition(error_code=0, partition_index=0, leader_id=1, replica_nodes=[1, 2], isr_nodes=[1]),
                MPartition(error_code=5, partition_index=1, leader_id=-1, replica_nodes=[2], isr_nodes=[])]),
            MTopic(error_code=3, name="missing", is_internal=False, partitions=[]),
        ])),

    # Produce v3-v7
    ("produce_request_v3", ProduceRequest[3](
        transactional_id=None, acks=-1, timeout_ms=30000,
        topic_data=[PTopic(name="orders", partition_data=[PPartition(index=0, records=RECORDS)])])),
    ("produce_request_v7", ProduceRequest[7](
        transactional_id="tx-1", acks=1, timeout_ms=1500,
        topic_data=[PTopic(name="orders", partition_data=[
            PPartition(index=0, records=RECORDS), PPartition(index=2, records=None)])])),
    ("produce_response_v3", ProduceResponse[3](
        responses=[PRTopic(name="orders", partition_responses=[
            PRPartition(index=0, error_code=0, base_offset=42, log_append_time_ms=-1)])],
        throttle_time_ms=0)),
    ("produce_response_v7", ProduceResponse[7](
        responses=[PRTopic(name="orders", partition_responses=[
            PRPartition(index=0, error_code=0, base_offset=42, log_append_time_ms=1700000000000, log_start_offset=7),
            PRPartition(index=2, error_code=6, base_offset=-1, log_append_time_ms=-1, log_start_offset=-1)])],
        throttle_time_ms=10)),

    # Fetch v4-v11
    ("fetch_request_v4", FetchRequest[4](
        replica_id=-1, max_wait_ms=500, min_bytes=1, max_bytes=52428800, isolation_level=1,
        topics=[FTopic(topic="orders", partitions=[
            FPartition(partition=0, fetch_offset=10, partition_max_bytes=1048576)])])),
    ("fetch_request_v11", FetchRequest[11](
        replica_id=-1, max_wait_ms=500, min_bytes=1, max_bytes=52428800, isolation_level=0,
        session_id=7, session_epoch=3,
        topics=[FTopic(topic="orders", partitions=[
            FPartition(partition=0, current_leader_epoch=2, fetch_offset=10, log_start_offset=-1,
                       partition_max_bytes=1048576)])],
        forgotten_topics_data=[FForgotten(topic="old", partitions=[1, 2])],
        rack_id="rack-a")),
    ("fetch_response_v4", FetchResponse[4](
        throttle_time_ms=0,
        responses=[FRTopic(topic="orders", partitions=[
            FRPartition(partition_index=0, error_code=0, high_watermark=100, last_stable_offset=100,
                        aborted_transactions=None, records=RECORDS)])])),
    ("fetch_response_v11", FetchResponse[11](
        throttle_time_ms=1, error_code=0, session_id=7,
        responses=[FRTopic(topic="orders", partitions=[
            FRPartition(partition_index=0, error_code=0, high_watermark=100, last_stable_offset=90,
                        log_start_offset=0, aborted_transactions=[FRAborted(producer_id=5, first_offset=20)],
                        preferred_read_replica=-1, records=RECORDS),
            FRPartition(partition_index=1, error_code=1, high_watermark=-1, last_stable_offset=-1,
                        log_start_offset=-1, aborted_transactions=None, preferred_read_replica=-1,
                        records=None)])])),

    # ListOffsets v1-v2
    ("list_offsets_request_v1", ListOffsetsRequest[1](
        replica_id=-1, topics=[LTopic(name="orders", partitions=[LPartition(partition_index=0, timestamp=-1)])])),
    ("list_offsets_request_v2", ListOffsetsRequest[2](
        replica_id=-1, isolation_level=1, topics=[LTopic(name="orders", partitions=[
            LPartition(partition_index=0, timestamp=-2), LPartition(partition_index=1, timestamp=1700000000000)])])),
    ("list_offsets_response_v1", ListOffsetsResponse[1](
        topics=[LRTopic(name="orders", partitions=[
            LRPartition(partition_index=0, error_code=0, timestamp=-1, offset=42)])])),
    ("list_offsets_response_v2", ListOffsetsResponse[2](
        throttle_time_ms=3, topics=[LRTopic(name="orders", partitions=[
            LRPartition(partition_index=0, error_code=0, timestamp=1700000000000, offset=17),
            LRPartition(partition_index=1, error_code=3, timestamp=-1, offset=-1)])])),

    # CreateTopics v0-v3
    ("create_topics_request_v0", CreateTopicsRequest[0](
        topics=[CTopic(name="orders", num_partitions=3, replication_factor=1, assignments=[],
                       configs=[CConfig(name="cleanup.policy", value="compact")])],
        timeout_ms=30000)),
    ("create_topics_request_v3", CreateTopicsRequest[3](
        topics=[CTopic(name="manual", num_partitions=-1, replication_factor=-1,
                       assignments=[CAssignment(partition_index=0, broker_ids=[1, 2]),
                                    CAssignment(partition_index=1, broker_ids=[2, 1])],
                       configs=[CConfig(name="retention.ms", value=None)])],
        timeout_ms=60000, validate_only=True)),
    ("create_topics_response_v0", CreateTopicsResponse[0](
        topics=[CRTopic(name="orders", error_code=0)])),
    ("create_topics_response_v3", CreateTopicsResponse[3](
        throttle_time_ms=0,
        topics=[CRTopic(name="orders", error_code=36, error_message="Topic 'orders' already exists."),
                CRTopic(name="manual", error_code=0, error_message=None)])),

    # DeleteTopics v0-v1
    ("delete_topics_request_v0", DeleteTopicsRequest[0](topic_names=["orders", "manual"], timeout_ms=30000)),
    ("delete_topics_request_v1", DeleteTopicsRequest[1](topic_names=["orders"], timeout_ms=15000)),
    ("delete_topics_response_v0", DeleteTopicsResponse[0](
        responses=[DTResult(name="orders", error_code=0), DTResult(name="manual", error_code=3)])),
    ("delete_topics_response_v1", DeleteTopicsResponse[1](
        throttle_time_ms=2, responses=[DTResult(name="orders", error_code=0)])),

    # InitProducerId v0
    ("init_producer_id_request_v0", InitProducerIdRequest[0](transactional_id=None, transaction_timeout_ms=60000)),
    ("init_producer_id_request_v0_transactional", InitProducerIdRequest[0](
        transactional_id="tx-1", transaction_timeout_ms=30000)),
    ("init_producer_id_response_v0", InitProducerIdResponse[0](
        throttle_time_ms=0, error_code=0, producer_id=1000, producer_epoch=0)),

    # DescribeConfigs v0-v3
    ("describe_configs_request_v0", DescribeConfigsRequest[0](
        resources=[DCResource(resource_type=2, resource_name="orders", configuration_keys=None)])),
    ("describe_configs_request_v3", DescribeConfigsRequest[3](
        resources=[DCResource(resource_type=2, resource_name="orders", configuration_keys=["cleanup.policy"]),
                   DCResource(resource_type=4, resource_name="1", configuration_keys=None)],
        include_synonyms=True, include_documentation=True)),
    ("describe_configs_response_v0", DescribeConfigsResponse[0](
        throttle_time_ms=0,
        results=[DCResult(error_code=0, error_message=None, resource_type=2, resource_name="orders", configs=[
            DCConfig(name="cleanup.policy", value="delete", read_only=False, is_default=True, is_sensitive=False)])])),
    ("describe_configs_response_v3", DescribeConfigsResponse[3](
        throttle_time_ms=4,
        results=[
            DCResult(error_code=0, error_message=None, resource_type=2, resource_name="orders", configs=[
                DCConfig(name="cleanup.policy", value="compact", read_only=False, config_source=1,
                         is_sensitive=False,
                         synonyms=[DCSynonym(name="cleanup.policy", value="compact", source=1),
                                   DCSynonym(name="log.cleanup.policy", value="delete", source=5)],
                         config_type=7, documentation="The cleanup policy."),
                DCConfig(name="sasl.jaas.config", value=None, read_only=True, config_source=4,
                         is_sensitive=True, synonyms=[], config_type=9, documentation=None)]),
            DCResult(error_code=3, error_message="Topic missing does not exist", resource_type=2,
                     resource_name="missing", configs=[]),
        ])),
]
