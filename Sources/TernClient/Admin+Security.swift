import NIOCore
import TernScram
import TernWire

/// ACLs (CreateAcls, DescribeAcls, DeleteAcls) and SCRAM users (DescribeUserScramCredentials,
/// AlterUserScramCredentials), as `kafka-acls.sh` and `kafka-configs.sh --entity-type users`.
extension Admin {
    /// The ACLs `filter` matches.
    public func describeAcls(_ filter: AclBindingFilter = AclBindingFilter()) async throws -> [AclBinding] {
        let response = try await self.controller().send(
            DescribeAclsRequest(
                resourceTypeFilter: filter.resourceType.rawValue,
                resourceNameFilter: filter.resourceName,
                patternTypeFilter: filter.patternType.rawValue,
                principalFilter: filter.principal,
                hostFilter: filter.host,
                operation: filter.operation.rawValue,
                permissionType: filter.permission.rawValue
            )
        )
        guard response.errorCode == .none else {
            throw TernClientError(
                .kafka(response.errorCode),
                "cannot list ACLs: \(response.errorCode)\(response.errorMessage.map { " (\($0))" } ?? "")"
            )
        }
        return response.resources.flatMap { resource in
            resource.acls.compactMap { acl in
                AclBinding(
                    wireResourceType: resource.resourceType,
                    resourceName: resource.resourceName,
                    patternType: resource.patternType,
                    principal: acl.principal,
                    host: acl.host,
                    operation: acl.operation,
                    permission: acl.permissionType
                )
            }
        }
    }

    /// Creates the ACLs; throws the first one's error.
    public func createAcls(_ bindings: [AclBinding]) async throws {
        let response = try await self.controller().send(
            CreateAclsRequest(
                creations: bindings.map {
                    .init(
                        resourceType: $0.resourceType.rawValue,
                        resourceName: $0.resourceName,
                        resourcePatternType: $0.patternType.rawValue,
                        principal: $0.principal,
                        host: $0.host,
                        operation: $0.operation.rawValue,
                        permissionType: $0.permission.rawValue
                    )
                }
            )
        )
        for result in response.results where result.errorCode != .none {
            throw TernClientError(
                .kafka(result.errorCode),
                "cannot create ACL: \(result.errorCode)\(result.errorMessage.map { " (\($0))" } ?? "")"
            )
        }
    }

    /// Deletes the ACLs the filters match and answers them.
    public func deleteAcls(_ filters: [AclBindingFilter]) async throws -> [AclBinding] {
        let response = try await self.controller().send(
            DeleteAclsRequest(
                filters: filters.map {
                    .init(
                        resourceTypeFilter: $0.resourceType.rawValue,
                        resourceNameFilter: $0.resourceName,
                        patternTypeFilter: $0.patternType.rawValue,
                        principalFilter: $0.principal,
                        hostFilter: $0.host,
                        operation: $0.operation.rawValue,
                        permissionType: $0.permission.rawValue
                    )
                }
            )
        )
        var deleted: [AclBinding] = []
        for result in response.filterResults {
            guard result.errorCode == .none else {
                throw TernClientError(
                    .kafka(result.errorCode),
                    "cannot delete ACLs: \(result.errorCode)\(result.errorMessage.map { " (\($0))" } ?? "")"
                )
            }
            deleted += result.matchingAcls.compactMap { acl in
                AclBinding(
                    wireResourceType: acl.resourceType,
                    resourceName: acl.resourceName,
                    patternType: acl.patternType,
                    principal: acl.principal,
                    host: acl.host,
                    operation: acl.operation,
                    permission: acl.permissionType
                )
            }
        }
        return deleted
    }

    /// Each user's SCRAM mechanisms with their iteration counts; nil: every user.
    public func describeUserScramCredentials(
        _ users: [String]? = nil
    ) async throws -> [String: [ScramMechanism: Int]] {
        let response = try await self.controller().send(
            DescribeUserScramCredentialsRequest(users: users.map { $0.map { .init(name: $0) } })
        )
        guard response.errorCode == .none else {
            throw TernClientError(
                .kafka(response.errorCode),
                "cannot list users: \(response.errorCode)\(response.errorMessage.map { " (\($0))" } ?? "")"
            )
        }
        var users: [String: [ScramMechanism: Int]] = [:]
        for result in response.results {
            guard result.errorCode == .none else {
                throw TernClientError(
                    .kafka(result.errorCode),
                    "user \(result.user): \(result.errorCode)\(result.errorMessage.map { " (\($0))" } ?? "")"
                )
            }
            var mechanisms: [ScramMechanism: Int] = [:]
            for info in result.credentialInfos {
                guard let mechanism = ScramMechanism(kafkaCode: info.mechanism) else { continue }
                mechanisms[mechanism] = Int(info.iterations)
            }
            users[result.user] = mechanisms
        }
        return users
    }

    /// Sets `user`'s password for each mechanism (creating the user): the salted password is
    /// computed here, with a fresh salt; the password never leaves the process.
    public func setScramPassword(
        _ password: String,
        user: String,
        mechanisms: [ScramMechanism] = ScramMechanism.allCases,
        iterations: Int = ScramMechanism.minimumIterations
    ) async throws {
        let upsertions = mechanisms.map { mechanism in
            let salt = ScramCredential.randomSalt()
            return AlterUserScramCredentialsRequest.ScramCredentialUpsertion(
                name: user,
                mechanism: mechanism.kafkaCode,
                iterations: Int32(iterations),
                salt: ByteBuffer(bytes: salt),
                saltedPassword: ByteBuffer(
                    bytes: mechanism.saltedPassword(Array(password.utf8), salt: salt, iterations: iterations)
                )
            )
        }
        try await self.alterScramCredentials(AlterUserScramCredentialsRequest(upsertions: upsertions))
    }

    /// Deletes `user`'s credentials for each mechanism (the user is gone with the last one).
    public func deleteScramCredentials(user: String, mechanisms: [ScramMechanism]) async throws {
        try await self.alterScramCredentials(
            AlterUserScramCredentialsRequest(deletions: mechanisms.map { .init(name: user, mechanism: $0.kafkaCode) })
        )
    }

    private func alterScramCredentials(_ request: AlterUserScramCredentialsRequest) async throws {
        let response = try await self.controller().send(request)
        for result in response.results where result.errorCode != .none {
            throw TernClientError(
                .kafka(result.errorCode),
                "user \(result.user): \(result.errorCode)\(result.errorMessage.map { " (\($0))" } ?? "")"
            )
        }
    }
}
