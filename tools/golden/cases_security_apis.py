# Golden cases for SaslHandshake, SaslAuthenticate, the ACL APIs and the SCRAM credential APIs:
# one realistic request and response each, encoded by gen_wire_golden.py at every version both
# kafka-python and Tern know. Values are dicts keyed by the schema's field names; fields left out
# get a deterministic non-default value.
from kafka.protocol.admin.acl import (
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse, DescribeAclsRequest,
    DescribeAclsResponse,
)
from kafka.protocol.admin.users import (
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse, DescribeUserScramCredentialsRequest,
    DescribeUserScramCredentialsResponse,
)
from kafka.protocol.sasl import (
    SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
)

# Kafka's numbers: resource TOPIC 2, GROUP 3; pattern LITERAL 3, PREFIXED 4, ANY 1; operation
# READ 3, WRITE 4, ANY 1; permission ALLOW 3, ANY 1.
MESSAGES = [
    (SaslHandshakeRequest, {"Mechanism": "SCRAM-SHA-256"}),
    (SaslHandshakeResponse, {"ErrorCode": 0, "Mechanisms": ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]}),
    (SaslAuthenticateRequest, {"AuthBytes": b"n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL"}),
    (SaslAuthenticateResponse, {
        "ErrorCode": 0, "ErrorMessage": None,
        "AuthBytes": b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        "SessionLifetimeMs": 0,
    }),
    (DescribeAclsRequest, {
        "ResourceTypeFilter": 2, "ResourceNameFilter": "orders", "PatternTypeFilter": 1,
        "PrincipalFilter": None, "HostFilter": None, "Operation": 1, "PermissionType": 1,
    }),
    (DescribeAclsResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None,
        "Resources": [{
            "ResourceType": 2, "ResourceName": "orders", "PatternType": 3,
            "Acls": [{"Principal": "User:alice", "Host": "*", "Operation": 4, "PermissionType": 3}],
        }],
    }),
    (CreateAclsRequest, {"Creations": [{
        "ResourceType": 3, "ResourceName": "billing", "ResourcePatternType": 4, "Principal": "User:alice",
        "Host": "*", "Operation": 3, "PermissionType": 3,
    }]}),
    (CreateAclsResponse, {"ThrottleTimeMs": 0, "Results": [{"ErrorCode": 0, "ErrorMessage": None}]}),
    (DeleteAclsRequest, {"Filters": [{
        "ResourceTypeFilter": 2, "ResourceNameFilter": None, "PatternTypeFilter": 3, "PrincipalFilter": "User:alice",
        "HostFilter": None, "Operation": 1, "PermissionType": 1,
    }]}),
    (DeleteAclsResponse, {"ThrottleTimeMs": 0, "FilterResults": [{
        "ErrorCode": 0, "ErrorMessage": None,
        "MatchingAcls": [{
            "ErrorCode": 0, "ErrorMessage": None, "ResourceType": 2, "ResourceName": "orders", "PatternType": 3,
            "Principal": "User:alice", "Host": "*", "Operation": 4, "PermissionType": 3,
        }],
    }]}),
    (DescribeUserScramCredentialsRequest, {"Users": [{"Name": "alice"}]}),
    (DescribeUserScramCredentialsResponse, {
        "ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None,
        "Results": [{"User": "alice", "ErrorCode": 0, "ErrorMessage": None,
                     "CredentialInfos": [{"Mechanism": 1, "Iterations": 4096}, {"Mechanism": 2, "Iterations": 8192}]}],
    }),
    (AlterUserScramCredentialsRequest, {
        "Deletions": [{"Name": "bob", "Mechanism": 2}],
        "Upsertions": [{"Name": "alice", "Mechanism": 1, "Iterations": 8192, "Salt": b"\x01\x02\x03\x04",
                        "SaltedPassword": bytes(range(32))}],
    }),
    (AlterUserScramCredentialsResponse, {"ThrottleTimeMs": 0, "Results": [
        {"User": "alice", "ErrorCode": 0, "ErrorMessage": None},
        {"User": "bob", "ErrorCode": 91, "ErrorMessage": "Attempt to delete a user credential that does not exist"},
    ]}),
]
