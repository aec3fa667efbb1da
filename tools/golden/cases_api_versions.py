# Golden cases for ApiVersions. Values are dicts keyed by the schema's field names; fields left out
# get a deterministic non-default value (see gen_wire_golden.py).
from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse

MESSAGES = [
    (ApiVersionsRequest, {"ClientSoftwareName": "kafka-python", "ClientSoftwareVersion": "3.0.12"}),
    (ApiVersionsResponse, {
        "ErrorCode": 0,
        "ApiKeys": [
            {"ApiKey": 0, "MinVersion": 3, "MaxVersion": 11},
            {"ApiKey": 1, "MinVersion": 4, "MaxVersion": 17},
            {"ApiKey": 18, "MinVersion": 0, "MaxVersion": 4},
        ],
        "ThrottleTimeMs": 0,
        "SupportedFeatures": [{"Name": "transaction.version", "MinVersion": 0, "MaxVersion": 2}],
        "FinalizedFeaturesEpoch": 12,
        "FinalizedFeatures": [{"Name": "metadata.version", "MaxVersionLevel": 21, "MinVersionLevel": 21}],
        "ZkMigrationReady": False,
    }),
]
