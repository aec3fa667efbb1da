# Golden cases for the transaction APIs (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
# TxnOffsetCommit, DescribeTransactions, ListTransactions): one realistic request and response
# each, encoded by gen_wire_golden.py at every version both kafka-python and Tern know. Values are
# dicts keyed by the schema's field names; fields left out get a deterministic non-default value.
from kafka.protocol.admin.transactions import (
    DescribeTransactionsRequest, DescribeTransactionsResponse, ListTransactionsRequest, ListTransactionsResponse,
)
from kafka.protocol.producer.transaction import (
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    EndTxnRequest, EndTxnResponse, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
)

TOPICS = [{"Name": "orders", "Partitions": [0, 2]}, {"Name": "payments", "Partitions": [1]}]
TOPIC_RESULTS = [{"Name": "orders", "ResultsByPartition": [
    {"PartitionIndex": 0, "PartitionErrorCode": 0}, {"PartitionIndex": 2, "PartitionErrorCode": 51}]}]

MESSAGES = [
    (AddPartitionsToTxnRequest, {
        "Transactions": [{"TransactionalId": "payments-tx", "ProducerId": 4000, "ProducerEpoch": 3,
                          "VerifyOnly": False, "Topics": TOPICS}],
        "V3AndBelowTransactionalId": "payments-tx", "V3AndBelowProducerId": 4000, "V3AndBelowProducerEpoch": 3,
        "V3AndBelowTopics": TOPICS,
    }),
    (AddPartitionsToTxnResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0,
        "ResultsByTransaction": [{"TransactionalId": "payments-tx", "TopicResults": TOPIC_RESULTS}],
        "ResultsByTopicV3AndBelow": TOPIC_RESULTS,
    }),
    (AddOffsetsToTxnRequest, {"TransactionalId": "payments-tx", "ProducerId": 4000, "ProducerEpoch": 3,
                              "GroupId": "payments-app"}),
    (AddOffsetsToTxnResponse, {"ThrottleTimeMs": 0, "ErrorCode": 0}),
    (EndTxnRequest, {"TransactionalId": "payments-tx", "ProducerId": 4000, "ProducerEpoch": 3, "Committed": True}),
    (EndTxnResponse, {"ThrottleTimeMs": 0, "ErrorCode": 0, "ProducerId": 4000, "ProducerEpoch": 4}),
    (TxnOffsetCommitRequest, {
        "TransactionalId": "payments-tx", "GroupId": "payments-app", "ProducerId": 4000, "ProducerEpoch": 3,
        "GenerationId": 7, "MemberId": "rdkafka-1f2e", "GroupInstanceId": None,
        "Topics": [{"Name": "orders", "Partitions": [
            {"PartitionIndex": 0, "CommittedOffset": 1234, "CommittedLeaderEpoch": 0, "CommittedMetadata": ""}]}],
    }),
    (TxnOffsetCommitResponse, {"ThrottleTimeMs": 0, "Topics": [
        {"Name": "orders", "Partitions": [{"PartitionIndex": 0, "ErrorCode": 0}]}]}),
    (DescribeTransactionsRequest, {"TransactionalIds": ["payments-tx", "missing-tx"]}),
    (DescribeTransactionsResponse, {"ThrottleTimeMs": 0, "TransactionStates": [
        {"ErrorCode": 0, "TransactionalId": "payments-tx", "TransactionState": "Ongoing",
         "TransactionTimeoutMs": 60000, "TransactionStartTimeMs": 1764763200000, "ProducerId": 4000,
         "ProducerEpoch": 3, "Topics": [{"Topic": "orders", "Partitions": [0, 2]}]},
        {"ErrorCode": 105, "TransactionalId": "missing-tx", "TransactionState": "", "TransactionTimeoutMs": 0,
         "TransactionStartTimeMs": -1, "ProducerId": -1, "ProducerEpoch": -1, "Topics": []},
    ]}),
    (ListTransactionsRequest, {"StateFilters": ["Ongoing"], "ProducerIdFilters": [4000], "DurationFilter": 30000}),
    (ListTransactionsResponse, {"ThrottleTimeMs": 0, "ErrorCode": 0, "UnknownStateFilters": [],
                                "TransactionStates": [{"TransactionalId": "payments-tx", "ProducerId": 4000,
                                                       "TransactionState": "Ongoing"}]}),
]
