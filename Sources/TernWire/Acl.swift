/// Kafka's ACL model as its ACL APIs carry it (KIP-290 prefixed patterns included): resource
/// types, pattern types, operations and permissions with their wire numbers, a binding and a
/// binding filter. The broker's authorizer decides with them; Tern's admin client lists and
/// creates them.
public enum AclResourceType: Int8, Sendable, Codable, CaseIterable {
    case any = 1
    case topic = 2
    case group = 3
    case cluster = 4
    case transactionalId = 5
    case delegationToken = 6
    case user = 7
}

public enum AclPatternType: Int8, Sendable, Codable {
    /// Filters only: any pattern type with exactly this name.
    case any = 1
    /// Filters only: the patterns that would apply to this resource name.
    case match = 2
    case literal = 3
    case prefixed = 4
}

public enum AclOperation: Int8, Sendable, Codable, CaseIterable {
    case any = 1
    case all = 2
    case read = 3
    case write = 4
    case create = 5
    case delete = 6
    case alter = 7
    case describe = 8
    case clusterAction = 9
    case describeConfigs = 10
    case alterConfigs = 11
    case idempotentWrite = 12
    case createTokens = 13
    case describeTokens = 14

    /// Operations whose ALLOW also grants this one.
    public var grantedBy: [AclOperation] {
        switch self {
        case .describe: [.describe, .all, .read, .write, .delete, .alter]
        case .describeConfigs: [.describeConfigs, .all, .alterConfigs]
        default: [self, .all]
        }
    }
}

public enum AclPermission: Int8, Sendable, Codable {
    case any = 1
    case deny = 2
    case allow = 3
}

/// The resource name Kafka gives the cluster.
public let clusterResourceName = "kafka-cluster"

/// One ACL: who (principal, host) may or may not do what (operation) to which resources.
public struct AclBinding: Hashable, Sendable, Codable {
    public var resourceType: AclResourceType
    public var resourceName: String
    public var patternType: AclPatternType
    public var principal: String
    public var host: String
    public var operation: AclOperation
    public var permission: AclPermission

    public init(
        resourceType: AclResourceType,
        resourceName: String,
        patternType: AclPatternType = .literal,
        principal: String,
        host: String = "*",
        operation: AclOperation,
        permission: AclPermission
    ) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    /// A binding as DescribeAcls and DeleteAcls answers carry it; nil for a kind this side does not
    /// know (a newer peer's).
    public init?(
        wireResourceType resourceType: Int8,
        resourceName: String,
        patternType: Int8,
        principal: String,
        host: String,
        operation: Int8,
        permission: Int8
    ) {
        guard let type = AclResourceType(rawValue: resourceType), let pattern = AclPatternType(rawValue: patternType),
            let operation = AclOperation(rawValue: operation), let permission = AclPermission(rawValue: permission)
        else { return nil }
        self.init(
            resourceType: type,
            resourceName: resourceName,
            patternType: pattern,
            principal: principal,
            host: host,
            operation: operation,
            permission: permission
        )
    }

    /// A binding from CreateAcls' raw fields, or why it cannot be one (Kafka's messages).
    public static func validated(
        resourceType: Int8,
        resourceName: String,
        patternType: Int8,
        principal: String,
        host: String,
        operation: Int8,
        permission: Int8
    ) -> Result<AclBinding, AclError> {
        guard let type = AclResourceType(rawValue: resourceType), type != .any else {
            return .failure(AclError("invalid resource type \(resourceType)"))
        }
        guard let pattern = AclPatternType(rawValue: patternType), pattern == .literal || pattern == .prefixed else {
            return .failure(AclError("the pattern type must be LITERAL or PREFIXED, not \(patternType)"))
        }
        guard let operation = AclOperation(rawValue: operation), operation != .any else {
            return .failure(AclError("invalid operation \(operation)"))
        }
        guard let permission = AclPermission(rawValue: permission), permission != .any else {
            return .failure(AclError("the permission type must be ALLOW or DENY"))
        }
        guard let colon = principal.firstIndex(of: ":"), colon != principal.startIndex,
            principal.index(after: colon) != principal.endIndex
        else {
            return .failure(AclError("principal \(principal) is not of the form Type:name (e.g. User:alice)"))
        }
        guard !resourceName.isEmpty else { return .failure(AclError("the resource name is empty")) }
        if pattern == .prefixed && resourceName == "*" {
            return .failure(AclError("a PREFIXED pattern cannot be the wildcard *"))
        }
        if type == .cluster && resourceName != clusterResourceName {
            return .failure(AclError("the cluster resource is named \(clusterResourceName)"))
        }
        return .success(
            AclBinding(
                resourceType: type,
                resourceName: resourceName,
                patternType: pattern,
                principal: principal,
                host: host.isEmpty ? "*" : host,
                operation: operation,
                permission: permission
            )
        )
    }

    /// Whether the binding is about this caller: its principal or `User:*`, its host or `*`.
    public func applies(toPrincipal principal: String, host: String) -> Bool {
        (self.principal == principal || self.principal == "User:*") && (self.host == host || self.host == "*")
    }

    /// Whether the pattern covers a resource of `type` named `name`.
    public func covers(_ type: AclResourceType, _ name: String) -> Bool {
        guard self.resourceType == type else { return false }
        switch self.patternType {
        case .literal: return self.resourceName == name || self.resourceName == "*"
        case .prefixed: return name.hasPrefix(self.resourceName)
        case .any, .match: return false
        }
    }
}

public struct AclError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// DescribeAcls' and DeleteAcls' filter: nil and ANY match everything.
public struct AclBindingFilter: Sendable, Equatable {
    public var resourceType: AclResourceType
    public var resourceName: String?
    public var patternType: AclPatternType
    public var principal: String?
    public var host: String?
    public var operation: AclOperation
    public var permission: AclPermission

    public init(
        resourceType: AclResourceType = .any,
        resourceName: String? = nil,
        patternType: AclPatternType = .any,
        principal: String? = nil,
        host: String? = nil,
        operation: AclOperation = .any,
        permission: AclPermission = .any
    ) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    /// A filter from the raw fields, or why it cannot be one (unknown enum values).
    public static func validated(
        resourceType: Int8,
        resourceName: String?,
        patternType: Int8,
        principal: String?,
        host: String?,
        operation: Int8,
        permission: Int8
    ) -> Result<AclBindingFilter, AclError> {
        guard let type = AclResourceType(rawValue: resourceType) else {
            return .failure(AclError("invalid resource type filter \(resourceType)"))
        }
        guard let pattern = AclPatternType(rawValue: patternType) else {
            return .failure(AclError("invalid pattern type filter \(patternType)"))
        }
        guard let operation = AclOperation(rawValue: operation) else {
            return .failure(AclError("invalid operation filter \(operation)"))
        }
        guard let permission = AclPermission(rawValue: permission) else {
            return .failure(AclError("invalid permission type filter \(permission)"))
        }
        return .success(
            AclBindingFilter(
                resourceType: type,
                resourceName: resourceName,
                patternType: pattern,
                principal: principal,
                host: host,
                operation: operation,
                permission: permission
            )
        )
    }

    public func matches(_ binding: AclBinding) -> Bool {
        guard self.resourceType == .any || self.resourceType == binding.resourceType else { return false }
        switch self.patternType {
        case .any:
            if let name = self.resourceName, name != binding.resourceName { return false }
        case .match:
            if let name = self.resourceName {
                let applies =
                    binding.patternType == .literal
                    ? (binding.resourceName == name || binding.resourceName == "*")
                    : name.hasPrefix(binding.resourceName)
                if !applies { return false }
            }
        case .literal, .prefixed:
            guard binding.patternType == self.patternType else { return false }
            if let name = self.resourceName, name != binding.resourceName { return false }
        }
        if let principal = self.principal, principal != binding.principal { return false }
        if let host = self.host, host != binding.host { return false }
        guard self.operation == .any || self.operation == binding.operation else { return false }
        return self.permission == .any || self.permission == binding.permission
    }
}
