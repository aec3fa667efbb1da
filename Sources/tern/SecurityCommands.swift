import ArgumentParser
import TernCLICore
import TernClient

/// `tern acl`: kafka-acls.sh's add, list and remove.
struct AclCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acl",
        abstract: "Add, list and remove ACLs (the broker needs authorizer.class.name).",
        subcommands: [Add.self, List.self, Remove.self]
    )

    /// The resource and principal options add, list and remove share.
    struct Selection: ParsableArguments {
        @Option(help: "A topic (or topic name prefix with --prefixed); * is every topic.") var topic: String?
        @Option(help: "A consumer group (or prefix with --prefixed); * is every group.") var group: String?
        @Option(name: .customLong("transactional-id"), help: "A transactional id.") var transactionalId: String?
        @Flag(help: "The cluster resource (kafka-cluster).") var cluster = false
        @Flag(help: "The resource name is a prefix (PREFIXED pattern).") var prefixed = false
        @Option(help: "Principal, e.g. User:alice (add: required).") var principal: String?
        @Option(help: "Client host the ACL applies from (default: any, *).") var host: String?
        @Option(
            help:
                "Operation: read, write, create, delete, alter, describe, cluster-action, describe-configs, alter-configs, idempotent-write, all."
        )
        var operation: [String] = []
        @Flag(help: "A DENY ACL (default: ALLOW).") var deny = false

        func resource() throws(CLIError) -> (AclResourceType, String)? {
            let chosen: [(AclResourceType, String)] = [
                self.topic.map { (.topic, $0) }, self.group.map { (.group, $0) },
                self.transactionalId.map { (.transactionalId, $0) }, self.cluster ? (.cluster, "kafka-cluster") : nil,
            ].compactMap { $0 }
            guard chosen.count <= 1 else {
                throw CLIError("give one of --topic, --group, --transactional-id, --cluster")
            }
            return chosen.first
        }

        func operations() throws(CLIError) -> [AclOperation] {
            try self.operation.map { name throws(CLIError) in
                let key = name.lowercased().replacing("_", with: "-")
                guard let operation = AclCommand.operationNames.first(where: { $0.value == key })?.key else {
                    throw CLIError("unknown operation \(name)")
                }
                return operation
            }
        }
    }

    static let operationNames: [AclOperation: String] = [
        .all: "all", .read: "read", .write: "write", .create: "create", .delete: "delete", .alter: "alter",
        .describe: "describe", .clusterAction: "cluster-action", .describeConfigs: "describe-configs",
        .alterConfigs: "alter-configs", .idempotentWrite: "idempotent-write", .createTokens: "create-tokens",
        .describeTokens: "describe-tokens", .any: "any",
    ]

    static let resourceNames: [AclResourceType: String] = [
        .topic: "topic", .group: "group", .cluster: "cluster", .transactionalId: "transactional-id",
        .delegationToken: "delegation-token", .user: "user", .any: "any",
    ]

    static func rows(_ bindings: [AclBinding]) -> String {
        table(
            ["PRINCIPAL", "PERMISSION", "OPERATION", "RESOURCE", "NAME", "PATTERN", "HOST"],
            bindings.map {
                [
                    $0.principal, $0.permission == .deny ? "DENY" : "ALLOW", operationNames[$0.operation] ?? "?",
                    resourceNames[$0.resourceType] ?? "?", $0.resourceName,
                    $0.patternType == .prefixed ? "PREFIXED" : "LITERAL", $0.host,
                ]
            }
        )
    }

    static func filter(_ selection: Selection) throws(CLIError) -> [AclBindingFilter] {
        let resource = try selection.resource()
        let operations = try selection.operations()
        return (operations.isEmpty ? [AclOperation.any] : operations).map { operation in
            AclBindingFilter(
                resourceType: resource?.0 ?? .any,
                resourceName: resource?.1,
                patternType: resource == nil ? .any : selection.prefixed ? .prefixed : .literal,
                principal: selection.principal,
                host: selection.host,
                operation: operation,
                permission: selection.deny ? .deny : .any
            )
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add ACLs: tern acl add --principal User:alice --operation read --topic orders"
        )
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var selection: Selection

        func run() async throws {
            guard let (type, name) = try self.selection.resource() else {
                throw ValidationError("give the resource: --topic, --group, --transactional-id or --cluster")
            }
            guard let principal = self.selection.principal else { throw ValidationError("--principal is required") }
            let operations = try self.selection.operations()
            guard !operations.isEmpty else { throw ValidationError("give at least one --operation") }
            let bindings = operations.map {
                AclBinding(
                    resourceType: type,
                    resourceName: name,
                    patternType: self.selection.prefixed ? .prefixed : .literal,
                    principal: principal,
                    host: self.selection.host ?? "*",
                    operation: $0,
                    permission: self.selection.deny ? .deny : .allow
                )
            }
            try await withAdmin(self.connection) { admin in try await admin.createAcls(bindings) }
            print("Added \(bindings.count) ACL\(bindings.count == 1 ? "" : "s"):")
            print(AclCommand.rows(bindings), terminator: "")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List ACLs, all or those matching the options.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var selection: Selection

        func run() async throws {
            var filters = try AclCommand.filter(self.selection)
            // A named resource lists every pattern that applies to it, as kafka-acls.sh --list.
            if self.selection.topic != nil || self.selection.group != nil || self.selection.transactionalId != nil,
                !self.selection.prefixed
            {
                filters = filters.map {
                    var filter = $0; filter.patternType = .match; return filter
                }
            }
            let chosen = filters
            let bindings = try await withAdmin(self.connection) { admin in
                var all: [AclBinding] = []
                for filter in chosen {
                    for binding in try await admin.describeAcls(filter) where !all.contains(binding) {
                        all.append(binding)
                    }
                }
                return all
            }
            print(AclCommand.rows(bindings), terminator: "")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the ACLs matching the options (at least one option is required)."
        )
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var selection: Selection

        func run() async throws {
            guard try self.selection.resource() != nil || self.selection.principal != nil else {
                throw ValidationError("give a resource or --principal: removing every ACL needs them spelled out")
            }
            let filters = try AclCommand.filter(self.selection)
            let removed = try await withAdmin(self.connection) { admin in try await admin.deleteAcls(filters) }
            print("Removed \(removed.count) ACL\(removed.count == 1 ? "" : "s")\(removed.isEmpty ? "." : ":")")
            if !removed.isEmpty { print(AclCommand.rows(removed), terminator: "") }
        }
    }
}

/// `tern user`: SCRAM users (kafka-configs.sh --entity-type users).
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add, delete and list SASL/SCRAM users.",
        subcommands: [Add.self, Delete.self, List.self]
    )

    static func mechanisms(_ names: [String]) throws(CLIError) -> [ScramMechanism] {
        guard !names.isEmpty else { return ScramMechanism.allCases }
        return try names.map { name throws(CLIError) in
            guard let mechanism = ScramMechanism(rawValue: name.uppercased()) else {
                throw CLIError("unknown mechanism \(name) (SCRAM-SHA-256 or SCRAM-SHA-512)")
            }
            return mechanism
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user or set its password (for both SCRAM mechanisms unless --mechanism)."
        )
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "User name.") var name: String
        @Option(help: "The password (default: read from the first line of standard input).") var password: String?
        @Option(help: "SCRAM-SHA-256 or SCRAM-SHA-512 (repeatable; default both).") var mechanism: [String] = []
        @Option(help: "PBKDF2 iterations, 4096–16384.") var iterations = 4096

        func run() async throws {
            guard let password = self.password ?? readLine(strippingNewline: true), !password.isEmpty else {
                throw ValidationError("no password: give --password or one line on standard input")
            }
            let mechanisms = try UserCommand.mechanisms(self.mechanism)
            let (name, iterations) = (self.name, self.iterations)
            try await withAdmin(self.connection) { admin in
                try await admin.setScramPassword(password, user: name, mechanisms: mechanisms, iterations: iterations)
            }
            print("Set the password of \"\(name)\" for \(mechanisms.map(\.rawValue).joined(separator: ", ")).")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user's credentials (default: all of them).")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "User name.") var name: String
        @Option(help: "SCRAM-SHA-256 or SCRAM-SHA-512 (repeatable; default: the user's every mechanism).")
        var mechanism: [String] = []

        func run() async throws {
            let name = self.name
            let chosen = self.mechanism.isEmpty ? nil : try UserCommand.mechanisms(self.mechanism)
            try await withAdmin(self.connection) { admin in
                var mechanisms = chosen ?? []
                if chosen == nil {
                    mechanisms = try await admin.describeUserScramCredentials([name])[name].map { Array($0.keys) } ?? []
                }
                try await admin.deleteScramCredentials(user: name, mechanisms: mechanisms)
            }
            print("Deleted \"\(name)\".")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users with their mechanisms and iterations.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let users = try await withAdmin(self.connection) { admin in try await admin.describeUserScramCredentials() }
            print(
                table(
                    ["USER", "MECHANISMS"],
                    users.keys.sorted().map { user in
                        let mechanisms = users[user]!.sorted { $0.key.rawValue < $1.key.rawValue }
                        return [
                            user,
                            mechanisms.map { "\($0.key.rawValue) (\($0.value) iterations)" }.joined(separator: ", "),
                        ]
                    }
                ),
                terminator: ""
            )
        }
    }
}
