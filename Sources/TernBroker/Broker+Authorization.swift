import Logging
import NIOCore
import TernWire

/// ACL enforcement (docs/security.md has the table of what each API needs). Without an
/// authorizer every check passes. Requests about one resource are refused as a whole here, with
/// the API's authorization error; requests about several topics or groups are checked per entry
/// by their handlers (`isAllowed`), as Kafka answers them.
extension Broker {
    func isAllowed(_ origin: RequestOrigin, _ operation: AclOperation, _ type: AclResourceType, _ name: String) -> Bool
    {
        guard let authorizer = self.configuration.authorizer else { return true }
        let allowed = authorizer.authorize(
            principal: origin.principal,
            host: origin.host,
            operation: operation,
            resourceType: type,
            resourceName: name,
            bindings: self.acls.bindings(on: type, name)
        )
        if !allowed {
            self.logger.debug(
                "access denied",
                metadata: [
                    "principal": "\(origin.principal)", "host": "\(origin.host)", "operation": "\(operation)",
                    "resource": "\(type):\(name)",
                ]
            )
        }
        return allowed
    }

    func isAllowedOnCluster(_ origin: RequestOrigin, _ operation: AclOperation) -> Bool {
        self.isAllowed(origin, operation, .cluster, clusterResourceName)
    }

    /// Topic operations on a topic, or CREATE on the cluster (which covers every topic), as
    /// Kafka lets CreateTopics and auto-creation through.
    func mayCreateTopic(_ origin: RequestOrigin, _ name: String) -> Bool {
        self.isAllowedOnCluster(origin, .create) || self.isAllowed(origin, .create, .topic, name)
    }

    /// KIP-679: an idempotent producer needs IDEMPOTENT_WRITE on the cluster, or WRITE on some
    /// topic (an ALLOW WRITE or ALL binding on any topic pattern for this principal).
    func mayWriteIdempotently(_ origin: RequestOrigin) -> Bool {
        guard let authorizer = self.configuration.authorizer else { return true }
        return self.isAllowedOnCluster(origin, .idempotentWrite)
            || authorizer.allowsSomeResource(
                principal: origin.principal,
                host: origin.host,
                operation: .write,
                resourceType: .topic,
                bindings: self.acls.all
            )
    }

    /// The answer to a request its principal may not make, or nil to serve it.
    func refuseUnauthorized(_ request: KafkaRequest, origin: RequestOrigin) -> BrokerReply? {
        guard self.configuration.authorizer != nil else { return nil }
        let denied = "Cluster authorization failed."
        switch request {
        case .describeAcls where !self.isAllowedOnCluster(origin, .describe):
            return self.reply(
                DescribeAclsResponse(errorCode: .clusterAuthorizationFailed, errorMessage: denied),
                origin
            )
        case .createAcls(let create) where !self.isAllowedOnCluster(origin, .alter):
            return self.reply(
                CreateAclsResponse(
                    results: create.creations.map { _ in
                        .init(errorCode: .clusterAuthorizationFailed, errorMessage: denied)
                    }
                ),
                origin
            )
        case .deleteAcls(let delete) where !self.isAllowedOnCluster(origin, .alter):
            return self.reply(
                DeleteAclsResponse(
                    filterResults: delete.filters.map { _ in
                        .init(errorCode: .clusterAuthorizationFailed, errorMessage: denied)
                    }
                ),
                origin
            )
        case .describeUserScramCredentials where !self.isAllowedOnCluster(origin, .describe):
            return self.reply(
                DescribeUserScramCredentialsResponse(errorCode: .clusterAuthorizationFailed, errorMessage: denied),
                origin
            )
        case .alterUserScramCredentials(let alter) where !self.isAllowedOnCluster(origin, .alter):
            let users = Set(alter.deletions.map(\.name) + alter.upsertions.map(\.name)).sorted()
            return self.reply(
                AlterUserScramCredentialsResponse(
                    results: users.map { .init(user: $0, errorCode: .clusterAuthorizationFailed, errorMessage: denied) }
                ),
                origin
            )
        case .describeLogDirs where !self.isAllowedOnCluster(origin, .describe):
            return self.reply(DescribeLogDirsResponse(errorCode: .clusterAuthorizationFailed), origin)
        case .listPartitionReassignments where !self.isAllowedOnCluster(origin, .describe):
            return self.reply(
                ListPartitionReassignmentsResponse(errorCode: .clusterAuthorizationFailed, errorMessage: denied),
                origin
            )
        case .electLeaders where !self.isAllowedOnCluster(origin, .alter):
            return self.reply(ElectLeadersResponse(errorCode: .clusterAuthorizationFailed), origin)
        case .describeClientQuotas where !self.isAllowedOnCluster(origin, .describeConfigs):
            return self.reply(
                DescribeClientQuotasResponse(
                    errorCode: .clusterAuthorizationFailed,
                    errorMessage: denied,
                    entries: nil
                ),
                origin
            )
        case .initProducerId(let initProducer):
            if let transactionalId = initProducer.transactionalId {
                guard !self.isAllowed(origin, .write, .transactionalId, transactionalId) else { return nil }
                return self.reply(InitProducerIdResponse(errorCode: .transactionalIdAuthorizationFailed), origin)
            }
            guard !self.mayWriteIdempotently(origin) else { return nil }
            return self.reply(InitProducerIdResponse(errorCode: .clusterAuthorizationFailed), origin)
        case .joinGroup(let join) where !self.isAllowed(origin, .read, .group, join.groupId):
            return self.reply(JoinGroupResponse(errorCode: .groupAuthorizationFailed), origin)
        case .syncGroup(let sync) where !self.isAllowed(origin, .read, .group, sync.groupId):
            return self.reply(SyncGroupResponse(errorCode: .groupAuthorizationFailed), origin)
        case .heartbeat(let heartbeat) where !self.isAllowed(origin, .read, .group, heartbeat.groupId):
            return self.reply(HeartbeatResponse(errorCode: .groupAuthorizationFailed), origin)
        case .leaveGroup(let leave) where !self.isAllowed(origin, .read, .group, leave.groupId):
            return self.reply(LeaveGroupResponse(errorCode: .groupAuthorizationFailed), origin)
        case .offsetDelete(let delete) where !self.isAllowed(origin, .delete, .group, delete.groupId):
            return self.reply(OffsetDeleteResponse(errorCode: .groupAuthorizationFailed), origin)
        case .offsetCommit(let commit) where !self.isAllowed(origin, .read, .group, commit.groupId):
            return self.reply(
                OffsetCommitResponse(
                    topics: commit.topics.map { topic in
                        .init(
                            name: topic.name,
                            partitions: topic.partitions.map {
                                .init(partitionIndex: $0.partitionIndex, errorCode: .groupAuthorizationFailed)
                            }
                        )
                    }
                ),
                origin
            )
        case .offsetFetch(let fetch)
        where origin.apiVersion < 8 && !self.isAllowed(origin, .describe, .group, fetch.groupId):
            return self.reply(
                OffsetFetchResponse(
                    topics: (fetch.topics ?? []).map { topic in
                        .init(
                            name: topic.name,
                            partitions: topic.partitionIndexes.map {
                                .init(partitionIndex: $0, committedOffset: -1, errorCode: .groupAuthorizationFailed)
                            }
                        )
                    },
                    errorCode: .groupAuthorizationFailed
                ),
                origin
            )
        default:
            return nil
        }
    }
}
