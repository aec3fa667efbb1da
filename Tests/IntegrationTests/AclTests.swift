import Foundation
import Testing

/// ACLs and the SCRAM admin APIs through a real `ternd` with the authorizer on: confluent-kafka's
/// AdminClient (librdkafka) manages ACLs and users, kcat produces and consumes as the users.
@Suite struct AclTests {
    private func kcat(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
        try await runCommand("/usr/bin/kcat", arguments, input: input.map { Data($0.utf8) }, timeout: .seconds(30))
    }

    private func python(_ script: String) async throws -> CommandResult {
        try await runCommand(Paths.python, ["-c", script], timeout: .seconds(90))
    }

    /// PLAINTEXT (anonymous) and SASL_PLAINTEXT listeners, the authorizer on, admin a super user.
    private func startTernd(dataDirectory: URL? = nil) async throws -> (TerndProcess, plaintext: Int, sasl: Int) {
        let plaintext = try await freePort()
        let saslPort = try await freePort()
        let ternd = try await TerndProcess.start(
            dataDirectory: dataDirectory,
            port: plaintext,
            environment: [
                "TERN_LISTENERS": "PLAINTEXT://127.0.0.1:\(plaintext),SASL_PLAINTEXT://127.0.0.1:\(saslPort)",
                "TERN_SASL_BOOTSTRAP_USERS": "admin:admin-secret,alice:alice-secret,bob:bob-secret",
                "TERN_AUTHORIZER_CLASS_NAME": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "TERN_SUPER_USERS": "User:admin",
            ],
            passesPort: false
        )
        return (ternd, plaintext, saslPort)
    }

    private func asUser(_ user: String, port: Int, mechanism: String = "SCRAM-SHA-256") -> [String] {
        [
            "-b", "127.0.0.1:\(port)", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=\(mechanism)",
            "-X", "sasl.username=\(user)", "-X", "sasl.password=\(user)-secret",
        ]
    }

    private func adminScript(port: Int, _ body: String) -> String {
        """
        import sys
        from confluent_kafka.admin import (AdminClient, AclBinding, AclBindingFilter, ResourceType,
            ResourcePatternType, AclOperation, AclPermissionType, NewTopic)
        def client(user, password):
            return AdminClient({"bootstrap.servers": "127.0.0.1:\(port)", "security.protocol": "SASL_PLAINTEXT",
                                "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": user, "sasl.password": password})
        admin = client("admin", "admin-secret")
        def acl(rtype, name, pattern, principal, op, perm=AclPermissionType.ALLOW):
            return AclBinding(rtype, name, pattern, principal, "*", op, perm)
        \(body)
        """
    }

    /// alice may write "orders", read "orders*" with group "billing"; bob nothing; anonymous
    /// clients see no topics. Denials are Kafka's errors, the ACLs survive a restart, and deleting
    /// them takes the access away.
    @Test func aclsGrantAndDenyPerTopicAndGroup() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        let (ternd, plaintext, saslPort) = try await startTernd(dataDirectory: dataDirectory)
        let setUp = try await python(
            adminScript(
                port: saslPort,
                """
                for f in admin.create_topics([NewTopic("orders", 1), NewTopic("secret", 1)]).values(): f.result(20)
                bindings = [
                    acl(ResourceType.TOPIC, "orders", ResourcePatternType.LITERAL, "User:alice", AclOperation.WRITE),
                    acl(ResourceType.TOPIC, "orders", ResourcePatternType.PREFIXED, "User:alice", AclOperation.READ),
                    acl(ResourceType.GROUP, "billing", ResourcePatternType.LITERAL, "User:alice", AclOperation.READ),
                ]
                for f in admin.create_acls(bindings).values(): f.result(20)
                described = admin.describe_acls(AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY,
                    None, None, AclOperation.ANY, AclPermissionType.ANY)).result(20)
                print(sorted(str(b) for b in described))
                assert len(described) == 3, described
                # A binding Kafka refuses: the cluster resource has one name.
                bad = acl(ResourceType.BROKER, "other", ResourcePatternType.LITERAL, "User:alice", AclOperation.ALTER)
                try:
                    admin.create_acls([bad])[bad].result(20)
                    sys.exit("a bad ACL was accepted")
                except Exception as error:
                    print("refused:", error)
                # alice may not manage ACLs (a handle kept alive until its answer came).
                alice = client("alice", "alice-secret")
                mine = acl(ResourceType.TOPIC, "secret", ResourcePatternType.LITERAL, "User:alice", AclOperation.ALL)
                try:
                    alice.create_acls([mine])[mine].result(20)
                    sys.exit("alice created an ACL")
                except Exception as error:
                    assert "CLUSTER_AUTHORIZATION_FAILED" in str(error), error
                    print("alice refused:", error)
                # kafka-python reads DescribeAcls' error code (librdkafka drops it): alice may not list.
                from kafka.admin import (KafkaAdminClient, ACLFilter, ResourcePatternFilter, ACLOperation,
                    ACLPermissionType, ACLResourcePatternType, ResourceType as PyResourceType)
                from kafka.errors import ClusterAuthorizationFailedError
                every = ACLFilter(principal=None, host=None, operation=ACLOperation.ANY,
                    permission_type=ACLPermissionType.ANY,
                    resource_pattern=ResourcePatternFilter(PyResourceType.ANY, None, ACLResourcePatternType.ANY))
                def python_admin(user):
                    return KafkaAdminClient(bootstrap_servers="127.0.0.1:\(saslPort)", security_protocol="SASL_PLAINTEXT",
                        sasl_mechanism="SCRAM-SHA-256", sasl_plain_username=user, sasl_plain_password=user + "-secret")
                listed, _ = python_admin("admin").describe_acls(every)
                assert len(listed) == 3, listed
                try:
                    python_admin("alice").describe_acls(every)
                    sys.exit("alice described ACLs")
                except ClusterAuthorizationFailedError as error:
                    print("alice refused:", error)
                """
            )
        )
        #expect(setUp.status == 0, "\(setUp.output)\n\(setUp.stderr)\nlog:\n\(ternd.log)")

        let alice = asUser("alice", port: saslPort)
        let produced = try await kcat(alice + ["-P", "-t", "orders"], input: "o1\no2\n")
        #expect(produced.status == 0, "\(produced.stderr)")
        let secret = try await kcat(alice + ["-P", "-t", "secret"], input: "s\n")
        #expect(secret.status != 0 && secret.stderr.contains("uthorization"), "\(secret.stderr)")
        let consumed = try await kcat(alice + ["-G", "billing", "-o", "beginning", "-e", "-q", "orders"])
        #expect(consumed.output == "o1\no2\n", "\(consumed.stderr)")
        let otherGroup = try await kcat(alice + ["-G", "other", "-o", "beginning", "-e", "-q", "orders"])
        #expect(!otherGroup.output.contains("o1"), "alice consumed with a group she may not use")
        let bob = try await kcat(asUser("bob", port: saslPort) + ["-C", "-t", "orders", "-o", "beginning", "-e", "-q"])
        #expect(bob.output.isEmpty && bob.stderr.contains("uthorization"), "\(bob.output)\n\(bob.stderr)")
        let anonymous = try await kcat(["-b", "127.0.0.1:\(plaintext)", "-L"])
        #expect(anonymous.output.contains("0 topics"), "\(anonymous.output)")
        try await ternd.stop()

        // The ACLs come back after a restart; deleting them ends alice's access.
        let (second, _, saslPort2) = try await startTernd(dataDirectory: dataDirectory)
        let alice2 = asUser("alice", port: saslPort2)
        let again = try await kcat(alice2 + ["-P", "-t", "orders"], input: "o3\n")
        #expect(again.status == 0, "\(again.stderr)\nlog:\n\(second.log)")
        let deleted = try await python(
            adminScript(
                port: saslPort2,
                """
                topics = AclBindingFilter(ResourceType.TOPIC, None, ResourcePatternType.ANY, "User:alice", None,
                    AclOperation.ANY, AclPermissionType.ANY)
                removed = admin.delete_acls([topics])[topics].result(20)
                print(removed)
                assert len(removed) == 2, removed
                """
            )
        )
        #expect(deleted.status == 0, "\(deleted.output)\n\(deleted.stderr)")
        let afterDelete = try await kcat(alice2 + ["-P", "-t", "orders"], input: "o4\n")
        #expect(afterDelete.status != 0, "alice still writes after her ACLs were deleted")
        try await second.stop()
    }

    /// KIP-554 through confluent-kafka: a user created by AlterUserScramCredentials logs in with
    /// it, DescribeUserScramCredentials shows mechanisms and iterations, deleting it ends that.
    @Test func scramUsersAreManagedThroughTheAdminApi() async throws {
        let (ternd, _, saslPort) = try await startTernd()
        let created = try await python(
            adminScript(
                port: saslPort,
                """
                from confluent_kafka.admin import (UserScramCredentialUpsertion, UserScramCredentialDeletion,
                    ScramCredentialInfo, ScramMechanism)
                upsert = UserScramCredentialUpsertion("carol", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192),
                                                      b"carol-secret")
                for f in admin.alter_user_scram_credentials([upsert]).values(): f.result(20)
                described = admin.describe_user_scram_credentials(["carol"])
                description = described["carol"].result(20) if isinstance(described, dict) else described.result(20)["carol"]
                infos = [(str(i.mechanism), i.iterations) for i in description.scram_credential_infos]
                print(infos)
                assert infos == [("ScramMechanism.SCRAM_SHA_256", 8192)], infos
                # Deleting a credential carol does not have is RESOURCE_NOT_FOUND.
                missing = UserScramCredentialDeletion("carol", ScramMechanism.SCRAM_SHA_512)
                try:
                    admin.alter_user_scram_credentials([missing])["carol"].result(20)
                    sys.exit("deleting a missing credential succeeded")
                except Exception as error:
                    print("refused:", error)
                # Too few iterations is UNACCEPTABLE_CREDENTIAL.
                weak = UserScramCredentialUpsertion("dave", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 100), b"x")
                try:
                    admin.alter_user_scram_credentials([weak])["dave"].result(20)
                    sys.exit("100 iterations were accepted")
                except Exception as error:
                    print("refused:", error)
                """
            )
        )
        #expect(created.status == 0, "\(created.output)\n\(created.stderr)\nlog:\n\(ternd.log)")
        let carol = try await kcat(asUser("carol", port: saslPort) + ["-L", "-m", "5"])
        #expect(carol.status == 0, "carol cannot log in: \(carol.stderr)")
        let wrongMechanism = try await kcat(
            asUser("carol", port: saslPort, mechanism: "SCRAM-SHA-512") + ["-L", "-m", "5"]
        )
        #expect(wrongMechanism.status != 0, "carol logged in with a mechanism she has no credential for")
        let removed = try await python(
            adminScript(
                port: saslPort,
                """
                from confluent_kafka.admin import UserScramCredentialDeletion, ScramMechanism
                gone = UserScramCredentialDeletion("carol", ScramMechanism.SCRAM_SHA_256)
                admin.alter_user_scram_credentials([gone])["carol"].result(20)
                """
            )
        )
        #expect(removed.status == 0, "\(removed.stderr)")
        let afterRemoval = try await kcat(asUser("carol", port: saslPort) + ["-L", "-m", "5"])
        #expect(afterRemoval.status != 0, "carol still logs in after her credential was deleted")
        try await ternd.stop()
    }

    /// `tern user` and `tern acl` as a super user over SASL: a user created with one mechanism,
    /// a prefixed ACL listed for a topic it covers, removal by principal; alice is refused.
    @Test func ternManagesUsersAndAcls() async throws {
        let (ternd, _, saslPort) = try await startTernd()
        let tern = Paths.buildProducts.appendingPathComponent("tern").path
        func admin(_ arguments: [String], as user: String = "admin") async throws -> CommandResult {
            try await runCommand(
                tern,
                arguments + [
                    "-b", "127.0.0.1:\(saslPort)", "-X", "security.protocol=SASL_PLAINTEXT", "-X",
                    "sasl.mechanisms=SCRAM-SHA-256", "-X", "sasl.username=\(user)", "-X",
                    "sasl.password=\(user)-secret",
                ],
                timeout: .seconds(30)
            )
        }
        let added = try await admin([
            "user", "add", "carol", "--password", "carol-secret", "--mechanism", "SCRAM-SHA-512",
        ])
        #expect(added.status == 0, "\(added.stderr)\nlog:\n\(ternd.log)")
        let users = try await admin(["user", "list"])
        #expect(
            users.output.contains("carol") && users.output.contains("SCRAM-SHA-512 (4096 iterations)"),
            "\(users.output)"
        )
        #expect(!users.output.split(separator: "\n").contains { $0.hasPrefix("carol") && $0.contains("SCRAM-SHA-256") })

        let granted = try await admin([
            "acl", "add", "--principal", "User:carol", "--operation", "write", "--topic", "logs-", "--prefixed",
        ])
        #expect(granted.status == 0 && granted.output.contains("PREFIXED"), "\(granted.output)\(granted.stderr)")
        let listed = try await admin(["acl", "list", "--topic", "logs-app"])
        #expect(
            listed.output.contains("User:carol") && listed.output.contains("write"),
            "\(listed.output)\(listed.stderr)"
        )

        // WRITE does not include CREATE: carol cannot auto-create, the admin creates the topic.
        let carol = asUser("carol", port: saslPort, mechanism: "SCRAM-SHA-512")
        let notCreated = try await kcat(
            carol + ["-P", "-t", "logs-new", "-X", "message.timeout.ms=3000"],
            input: "x\n"
        )
        #expect(notCreated.status != 0, "carol auto-created a topic without CREATE")
        let created = try await admin(["topic", "create", "logs-app"])
        #expect(created.status == 0, "\(created.stderr)")
        let produced = try await kcat(carol + ["-P", "-t", "logs-app"], input: "line\n")
        #expect(produced.status == 0, "\(produced.stderr)")

        let refused = try await admin(["acl", "list"], as: "alice")
        #expect(refused.status != 0 && refused.stderr.contains("CLUSTER_AUTHORIZATION_FAILED"), "\(refused.stderr)")

        let removed = try await admin(["acl", "remove", "--principal", "User:carol"])
        #expect(removed.output.contains("Removed 1 ACL"), "\(removed.output)\(removed.stderr)")
        let deleted = try await admin(["user", "delete", "carol"])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let gone = try await kcat(carol + ["-L", "-m", "5"])
        #expect(gone.status != 0, "carol still logs in")
        try await ternd.stop()
    }

    /// Without an authorizer the ACL APIs answer SECURITY_DISABLED, as Kafka's.
    @Test func aclApisWithoutAnAuthorizerAreSecurityDisabled() async throws {
        let ternd = try await TerndProcess.start()
        let result = try await python(
            """
            from confluent_kafka.admin import (AdminClient, AclBinding, ResourceType, ResourcePatternType,
                AclOperation, AclPermissionType)
            from kafka.admin import (KafkaAdminClient, ACLFilter, ResourcePatternFilter, ACLOperation,
                ACLPermissionType, ACLResourcePatternType, ResourceType as PyResourceType)
            from kafka.errors import SecurityDisabledError
            admin = AdminClient({"bootstrap.servers": "127.0.0.1:\(ternd.port)"})
            binding = AclBinding(ResourceType.TOPIC, "t", ResourcePatternType.LITERAL, "User:a", "*",
                AclOperation.READ, AclPermissionType.ALLOW)
            try:
                admin.create_acls([binding])[binding].result(20)
                raise SystemExit("created an ACL without an authorizer")
            except Exception as error:
                print(error)
                assert "SECURITY_DISABLED" in str(error), error
            every = ACLFilter(principal=None, host=None, operation=ACLOperation.ANY,
                permission_type=ACLPermissionType.ANY,
                resource_pattern=ResourcePatternFilter(PyResourceType.ANY, None, ACLResourcePatternType.ANY))
            try:
                KafkaAdminClient(bootstrap_servers="127.0.0.1:\(ternd.port)").describe_acls(every)
                raise SystemExit("described ACLs without an authorizer")
            except SecurityDisabledError as error:
                print(error)
            """
        )
        #expect(result.status == 0, "\(result.output)\n\(result.stderr)")
        try await ternd.stop()
    }
}
