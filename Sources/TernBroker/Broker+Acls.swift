import Logging
import NIOCore
import TernScram
import TernWire

/// DescribeAcls, CreateAcls, DeleteAcls (KIP-140) and DescribeUserScramCredentials,
/// AlterUserScramCredentials (KIP-554). Who may call them is checked before (`refuseUnauthorized`).
extension Broker {
    static let noAuthorizerMessage = "No Authorizer is configured on the broker"

    func describeAcls(_ request: DescribeAclsRequest) -> DescribeAclsResponse {
        guard self.configuration.authorizer != nil else {
            return DescribeAclsResponse(errorCode: .securityDisabled, errorMessage: Self.noAuthorizerMessage)
        }
        let filter: AclBindingFilter
        switch AclBindingFilter.validated(
            resourceType: request.resourceTypeFilter,
            resourceName: request.resourceNameFilter,
            patternType: request.patternTypeFilter,
            principal: request.principalFilter,
            host: request.hostFilter,
            operation: request.operation,
            permission: request.permissionType
        ) {
        case .success(let valid): filter = valid
        case .failure(let error):
            return DescribeAclsResponse(errorCode: .invalidRequest, errorMessage: error.description)
        }
        // One entry per resource pattern, its ACLs in the order they were created.
        var resources: [DescribeAclsResponse.DescribeAclsResource] = []
        for binding in self.acls.all where filter.matches(binding) {
            let description = DescribeAclsResponse.AclDescription(
                principal: binding.principal,
                host: binding.host,
                operation: binding.operation.rawValue,
                permissionType: binding.permission.rawValue
            )
            if let index = resources.firstIndex(where: {
                $0.resourceType == binding.resourceType.rawValue && $0.resourceName == binding.resourceName
                    && $0.patternType == binding.patternType.rawValue
            }) {
                resources[index].acls.append(description)
            } else {
                resources.append(
                    .init(
                        resourceType: binding.resourceType.rawValue,
                        resourceName: binding.resourceName,
                        patternType: binding.patternType.rawValue,
                        acls: [description]
                    )
                )
            }
        }
        return DescribeAclsResponse(errorMessage: nil, resources: resources)
    }

    func createAcls(_ request: CreateAclsRequest, origin: RequestOrigin) -> CreateAclsResponse {
        guard self.configuration.authorizer != nil else {
            return CreateAclsResponse(
                results: request.creations.map { _ in
                    .init(errorCode: .securityDisabled, errorMessage: Self.noAuthorizerMessage)
                }
            )
        }
        var results: [CreateAclsResponse.AclCreationResult] = []
        var valid: [AclBinding] = []
        for creation in request.creations {
            switch AclBinding.validated(
                resourceType: creation.resourceType,
                resourceName: creation.resourceName,
                patternType: creation.resourcePatternType,
                principal: creation.principal,
                host: creation.host,
                operation: creation.operation,
                permission: creation.permissionType
            ) {
            case .success(let binding):
                valid.append(binding)
                results.append(.init(errorCode: .none, errorMessage: nil))
            case .failure(let error):
                results.append(.init(errorCode: .invalidRequest, errorMessage: error.description))
            }
        }
        do {
            try self.acls.add(valid)
        } catch {
            self.logger.error("cannot persist ACLs", metadata: ["error": "\(error)"])
            return CreateAclsResponse(
                results: request.creations.map { _ in
                    .init(errorCode: .unknownServerError, errorMessage: "the ACLs could not be stored: \(error)")
                }
            )
        }
        if !valid.isEmpty {
            self.logger.info(
                "ACLs created",
                metadata: ["by": "\(origin.principal)", "acls": "\(valid.map(Self.describe).joined(separator: "; "))"]
            )
        }
        return CreateAclsResponse(results: results)
    }

    func deleteAcls(_ request: DeleteAclsRequest, origin: RequestOrigin) -> DeleteAclsResponse {
        guard self.configuration.authorizer != nil else {
            return DeleteAclsResponse(
                filterResults: request.filters.map { _ in
                    .init(errorCode: .securityDisabled, errorMessage: Self.noAuthorizerMessage)
                }
            )
        }
        var filters: [AclBindingFilter?] = []
        var invalid: [Int: String] = [:]
        for (index, raw) in request.filters.enumerated() {
            switch AclBindingFilter.validated(
                resourceType: raw.resourceTypeFilter,
                resourceName: raw.resourceNameFilter,
                patternType: raw.patternTypeFilter,
                principal: raw.principalFilter,
                host: raw.hostFilter,
                operation: raw.operation,
                permission: raw.permissionType
            ) {
            case .success(let filter): filters.append(filter)
            case .failure(let error):
                filters.append(nil)
                invalid[index] = error.description
            }
        }
        let removed: [[AclBinding]]
        do {
            removed = try self.acls.remove(matching: filters.compactMap { $0 })
        } catch {
            return DeleteAclsResponse(
                filterResults: request.filters.map { _ in
                    .init(errorCode: .unknownServerError, errorMessage: "the ACLs could not be stored: \(error)")
                }
            )
        }
        var next = removed.makeIterator()
        let results = filters.indices.map { index -> DeleteAclsResponse.DeleteAclsFilterResult in
            if let message = invalid[index] { return .init(errorCode: .invalidRequest, errorMessage: message) }
            let matching = next.next() ?? []
            return .init(
                errorCode: .none,
                errorMessage: nil,
                matchingAcls: matching.map { binding in
                    .init(
                        errorCode: .none,
                        errorMessage: nil,
                        resourceType: binding.resourceType.rawValue,
                        resourceName: binding.resourceName,
                        patternType: binding.patternType.rawValue,
                        principal: binding.principal,
                        host: binding.host,
                        operation: binding.operation.rawValue,
                        permissionType: binding.permission.rawValue
                    )
                }
            )
        }
        let count = removed.reduce(0) { $0 + $1.count }
        if count > 0 {
            self.logger.info("ACLs deleted", metadata: ["by": "\(origin.principal)", "count": "\(count)"])
        }
        return DeleteAclsResponse(filterResults: results)
    }

    static func describe(_ binding: AclBinding) -> String {
        "\(binding.principal) \(binding.permission) \(binding.operation) on \(binding.resourceType):"
            + "\(binding.patternType == .prefixed ? "\(binding.resourceName)*" : binding.resourceName) from \(binding.host)"
    }

    // MARK: - SCRAM credentials

    func describeUserScramCredentials(_ request: DescribeUserScramCredentialsRequest)
        -> DescribeUserScramCredentialsResponse
    {
        let described = self.credentials.described
        let info = { (user: String) -> [DescribeUserScramCredentialsResponse.CredentialInfo] in
            (described[user] ?? [:]).sorted { $0.key.kafkaCode < $1.key.kafkaCode }.map {
                .init(mechanism: $0.key.kafkaCode, iterations: Int32($0.value))
            }
        }
        guard let users = request.users, !users.isEmpty else {
            return DescribeUserScramCredentialsResponse(
                errorMessage: nil,
                results: described.keys.sorted().map { .init(user: $0, errorMessage: nil, credentialInfos: info($0)) }
            )
        }
        let names = users.map(\.name)
        var results: [DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult] = []
        for name in Set(names).sorted() {
            if names.filter({ $0 == name }).count > 1 {
                results.append(
                    .init(
                        user: name,
                        errorCode: .duplicateResource,
                        errorMessage:
                            "Cannot describe SCRAM credentials for the same user twice in a single request: \(name)"
                    )
                )
            } else if described[name] == nil {
                results.append(
                    .init(
                        user: name,
                        errorCode: .resourceNotFound,
                        errorMessage: "Attempt to describe a user credential that does not exist: \(name)"
                    )
                )
            } else {
                results.append(.init(user: name, errorMessage: nil, credentialInfos: info(name)))
            }
        }
        return DescribeUserScramCredentialsResponse(errorMessage: nil, results: results)
    }

    /// Kafka's bounds on a credential's iterations.
    static let scramIterations = ScramMechanism.minimumIterations...16_384

    func alterUserScramCredentials(
        _ request: AlterUserScramCredentialsRequest,
        origin: RequestOrigin
    ) -> AlterUserScramCredentialsResponse {
        // Validate per user: a user with any bad change gets that error and none of its changes.
        let users = Set(request.deletions.map(\.name) + request.upsertions.map(\.name))
        let existing = self.credentials.described
        var errors: [String: (KafkaErrorCode, String)] = [:]
        var deletions: [(user: String, mechanism: ScramMechanism)] = []
        var upsertions: [(user: String, mechanism: ScramMechanism, credential: ScramCredential)] = []
        for user in users {
            let userDeletions = request.deletions.filter { $0.name == user }
            let userUpsertions = request.upsertions.filter { $0.name == user }
            let mechanisms = userDeletions.map(\.mechanism) + userUpsertions.map(\.mechanism)
            if user.isEmpty {
                errors[user] = (.unacceptableCredential, "Username must not be empty")
            } else if let bad = mechanisms.first(where: { ScramMechanism(kafkaCode: $0) == nil }) {
                errors[user] = (.unsupportedSaslMechanism, "Unknown SCRAM mechanism \(bad)")
            } else if Set(mechanisms).count != mechanisms.count {
                errors[user] = (
                    .duplicateResource, "A user credential cannot be altered twice in the same request"
                )
            } else if let missing = userDeletions.first(where: {
                existing[user]?[ScramMechanism(kafkaCode: $0.mechanism)!] == nil
            }) {
                errors[user] = (
                    .resourceNotFound,
                    "Attempt to delete a user credential that does not exist: \(user) \(ScramMechanism(kafkaCode: missing.mechanism)!.rawValue)"
                )
            } else if let bad = userUpsertions.first(where: { !Self.scramIterations.contains(Int($0.iterations)) }) {
                errors[user] = (
                    .unacceptableCredential,
                    "Iterations \(bad.iterations) must be between \(Self.scramIterations.lowerBound) and \(Self.scramIterations.upperBound)"
                )
            } else if userUpsertions.contains(where: {
                $0.salt.readableBytes == 0 || $0.saltedPassword.readableBytes == 0
            }) {
                errors[user] = (.unacceptableCredential, "Salt and salted password must not be empty")
            } else {
                deletions += userDeletions.map { (user, ScramMechanism(kafkaCode: $0.mechanism)!) }
                upsertions += userUpsertions.map { upsertion in
                    let mechanism = ScramMechanism(kafkaCode: upsertion.mechanism)!
                    let salt = Array(upsertion.salt.readableBytesView)
                    return (
                        user, mechanism,
                        ScramCredential.make(
                            saltedPassword: Array(upsertion.saltedPassword.readableBytesView),
                            mechanism: mechanism,
                            salt: salt,
                            iterations: Int(upsertion.iterations)
                        )
                    )
                }
            }
        }
        do {
            try self.credentials.alter(deleting: deletions, upserting: upsertions)
        } catch {
            return AlterUserScramCredentialsResponse(
                results: users.sorted().map {
                    .init(
                        user: $0,
                        errorCode: .unknownServerError,
                        errorMessage: "credentials could not be stored: \(error)"
                    )
                }
            )
        }
        let changed = users.subtracting(errors.keys)
        if !changed.isEmpty {
            self.logger.info(
                "SCRAM credentials altered",
                metadata: ["by": "\(origin.principal)", "users": "\(changed.sorted().joined(separator: ","))"]
            )
        }
        return AlterUserScramCredentialsResponse(
            results: users.sorted().map { user in
                guard let (code, message) = errors[user] else { return .init(user: user, errorMessage: nil) }
                return .init(user: user, errorCode: code, errorMessage: message)
            }
        )
    }
}
