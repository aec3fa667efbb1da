import TernWire

/// Kafka's authorization rule, pure: the broker's `AclStore` holds the bindings (TernWire's ACL
/// model), `Authorizer.authorize` decides one access.
///
/// The rule, as Kafka's `StandardAuthorizer`:
/// - a super user (`super.users`) may do everything;
/// - a binding applies when its resource type is the resource's, its pattern matches the name
///   (LITERAL: equal or `*`; PREFIXED: the name starts with it), its principal is the caller's or
///   `User:*`, its host the caller's or `*`;
/// - any applying DENY for the operation (or ALL) refuses; else an applying ALLOW for it, for ALL,
///   or for an operation that implies it (READ, WRITE, DELETE and ALTER imply DESCRIBE;
///   ALTER_CONFIGS implies DESCRIBE_CONFIGS) grants;
/// - with no binding at all on the resource, `allow.everyone.if.no.acl.found` decides (false).
///
/// Settings: `authorizer.class.name`, `super.users`, `allow.everyone.if.no.acl.found`.
public struct Authorizer: Sendable, Equatable {
    public var superUsers: Set<String>
    public var allowEveryoneIfNoAclFound: Bool

    public init(superUsers: Set<String> = [], allowEveryoneIfNoAclFound: Bool = false) {
        self.superUsers = superUsers
        self.allowEveryoneIfNoAclFound = allowEveryoneIfNoAclFound
    }

    public func authorize(
        principal: String,
        host: String,
        operation: AclOperation,
        resourceType: AclResourceType,
        resourceName: String,
        bindings: [AclBinding]
    ) -> Bool {
        if self.superUsers.contains(principal) { return true }
        let onResource = bindings.filter { $0.covers(resourceType, resourceName) }
        if onResource.isEmpty { return self.allowEveryoneIfNoAclFound }
        let applying = onResource.filter { $0.applies(toPrincipal: principal, host: host) }
        if applying.contains(where: { $0.permission == .deny && ($0.operation == operation || $0.operation == .all) }) {
            return false
        }
        let granting = operation.grantedBy
        return applying.contains { $0.permission == .allow && granting.contains($0.operation) }
    }

    /// Whether some ALLOW binding grants `operation` on some resource of `type` (KIP-679: WRITE on
    /// any topic lets a producer be idempotent). Super users always may.
    public func allowsSomeResource(
        principal: String,
        host: String,
        operation: AclOperation,
        resourceType: AclResourceType,
        bindings: [AclBinding]
    ) -> Bool {
        if self.superUsers.contains(principal) { return true }
        let granting = operation.grantedBy
        return bindings.contains {
            $0.resourceType == resourceType && $0.permission == .allow && granting.contains($0.operation)
                && $0.applies(toPrincipal: principal, host: host)
        }
    }
}
