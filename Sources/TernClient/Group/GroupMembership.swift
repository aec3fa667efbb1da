import Logging
import NIOCore
import Synchronization
import TernWire

/// A consumer's membership in a classic consumer group: finds the coordinator, joins, runs the
/// assignor when it leads, syncs, heartbeats on the coordinator connection (apart from fetches),
/// rejoins when the group rebalances, commits and fetches offsets, and leaves on close.
///
/// The decisions are `GroupMembershipStateMachine`'s; this class only performs its actions.
/// The owner hears about assignments through `onEvent`, which the membership awaits: a `.revoked`
/// handler can commit (with `commit(_:)`) before the member rejoins, as Java's
/// `onPartitionsRevoked` does. Heartbeats pause while a handler runs, so handlers should be quick
/// compared to the session timeout.
///
///     let membership = GroupMembership(configuration: …, cluster: cluster, logger: logger) { event in … }
///     Task { await membership.run() }      // returns after `leave()` or a fatal error
///     try await membership.commit([partition: 42])
///     await membership.leave()
final class GroupMembership: Sendable {
    let configuration: GroupMembershipConfiguration
    private let cluster: Cluster
    private let logger: Logger
    private let onEvent: @Sendable (GroupEvent) async -> Void
    private let machine: Mutex<GroupMembershipStateMachine>
    private let wake = WakeSignal()
    private let lifecycle = Mutex(Lifecycle())

    private struct Lifecycle {
        var running = false
        var finished = false
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    init(
        configuration: GroupMembershipConfiguration,
        cluster: Cluster,
        logger: Logger,
        onEvent: @escaping @Sendable (GroupEvent) async -> Void
    ) {
        self.configuration = configuration
        self.cluster = cluster
        self.logger = logger
        self.onEvent = onEvent
        self.machine = Mutex(GroupMembershipStateMachine(configuration: configuration))
    }

    /// The partitions owned now.
    var assignment: [TopicPartition] { self.machine.withLock { $0.assignment } }

    /// The member id and generation while the member is in a completed generation.
    var identity: (memberId: String, generation: Int32)? { self.machine.withLock { $0.commitIdentity } }

    // MARK: Driver

    /// Runs the membership until `leave()` or a fatal error (reported as `.failed`).
    func run() async {
        let alreadyRunning = self.lifecycle.withLock { lifecycle -> Bool in
            defer { lifecycle.running = true }
            return lifecycle.running || lifecycle.finished
        }
        guard !alreadyRunning else { return }
        var action = self.machine.withLock { $0.start() }
        while true {
            self.logger.trace(
                "group action",
                metadata: ["group": "\(self.configuration.groupId)", "action": "\(action)"]
            )
            switch action {
            case .stop:
                self.finish()
                return
            case .findCoordinator(let invalidate):
                if invalidate { await self.cluster.invalidateCoordinator(.group(self.configuration.groupId)) }
                do {
                    _ = try await self.cluster.coordinator(for: .group(self.configuration.groupId))
                    action = self.machine.withLock { $0.coordinatorFound() }
                } catch {
                    action = self.failed(error)
                }
            case .sendJoinGroup(let request):
                // The coordinator answers once every member has joined: up to the rebalance timeout.
                let response = await self.send(request, timeout: self.configuration.rebalanceTimeout + .seconds(5))
                action = self.machine.withLock { machine in
                    switch response {
                    case .success(let response): machine.joinGroupResponse(response)
                    case .failure(let error): machine.requestFailed(error)
                    }
                }
            case .assign(let assignor, let members):
                do {
                    let topics = Set(members.flatMap(\.subscription.topics)).sorted()
                    let counts = try await self.partitionCounts(topics)
                    let assignment = assignor.assign(members: members, partitionCounts: counts)
                    self.logger.debug(
                        "assigned partitions as group leader",
                        metadata: ["group": "\(self.configuration.groupId)", "assignor": "\(assignor)"]
                    )
                    action = self.machine.withLock {
                        $0.assignmentComputed(assignment, topics: topics, partitionCounts: counts)
                    }
                } catch {
                    action = self.failed(error)
                }
            case .checkMetadata(let topics):
                let counts = try? await self.partitionCounts(topics)
                action = self.machine.withLock { $0.metadataChecked(counts) }
            case .sendSyncGroup(let request):
                let response = await self.send(request, timeout: self.configuration.rebalanceTimeout + .seconds(5))
                action = self.machine.withLock { machine in
                    switch response {
                    case .success(let response): machine.syncGroupResponse(response)
                    case .failure(let error): machine.requestFailed(error)
                    }
                }
            case .sendHeartbeat(let request):
                let response = await self.send(request, timeout: nil)
                action = self.machine.withLock { machine in
                    switch response {
                    case .success(let response): machine.heartbeatResponse(response.errorCode)
                    case .failure(let error): machine.requestFailed(error)
                    }
                }
            case .waitForHeartbeat(let delay):
                await self.wake.wait(until: .now + delay)
                action = self.machine.withLock { $0.heartbeatDue() }
            case .retry(let delay):
                await self.wake.wait(until: .now + delay)
                action = self.machine.withLock { $0.retryDue() }
            case .notify(let event):
                self.logger.debug(
                    "group event",
                    metadata: ["group": "\(self.configuration.groupId)", "event": "\(event)"]
                )
                await self.onEvent(event)
                action = self.machine.withLock { $0.notified() }
            case .sendLeaveGroup(let request):
                _ = await self.send(request, timeout: nil)
                action = self.machine.withLock { $0.left() }
            }
        }
    }

    private func failed(_ error: any Error) -> GroupMembershipStateMachine.Action {
        let error = error as? TernClientError ?? TernClientError(.protocolError, "\(error)")
        self.logger.debug(
            "group request failed",
            metadata: ["group": "\(self.configuration.groupId)", "error": "\(error)"]
        )
        return self.machine.withLock { $0.requestFailed(error) }
    }

    /// Sends on the coordinator connection. A failure drops the connection and forgets the
    /// coordinator, so the next request looks it up again.
    private func send<Request: KafkaRequestMessage>(
        _ request: Request,
        timeout: Duration?
    ) async -> Result<Request.Response, TernClientError> {
        let group = self.configuration.groupId
        var connection: BrokerConnection?
        do {
            let coordinator = try await self.cluster.coordinator(for: .group(group))
            connection = coordinator
            let version = try coordinator.version(for: Request.self)
            return .success(try await coordinator.send(request, version: version, timeout: timeout))
        } catch {
            self.logger.debug("\(Request.apiKey) failed", metadata: ["group": "\(group)", "error": "\(error)"])
            if let connection { await self.cluster.connectionFailed(connection) }
            await self.cluster.invalidateCoordinator(.group(group))
            return .failure(error)
        }
    }

    /// Partition counts of the subscribed topics, fresh from metadata.
    private func partitionCounts(_ topics: [String]) async throws -> [String: Int32] {
        guard !topics.isEmpty else { return [:] }
        let metadata = try await self.cluster.refreshMetadata(topics: topics)
        var counts: [String: Int32] = [:]
        for topic in metadata.topics where topic.error == .none && !topic.partitions.isEmpty {
            counts[topic.name] = Int32(topic.partitions.count)
        }
        return counts
    }

    private func finish() {
        let waiters = self.lifecycle.withLock { lifecycle -> [CheckedContinuation<Void, Never>] in
            lifecycle.finished = true
            defer { lifecycle.finishWaiters = [] }
            return lifecycle.finishWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Owner's API

    /// Revokes the assignment (through `onEvent`), sends LeaveGroup and waits until `run()` has
    /// returned. Without a running `run()`, just marks the membership closed.
    func leave() async {
        self.machine.withLock { $0.close() }
        self.wake.signal()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = self.lifecycle.withLock { lifecycle -> Bool in
                if lifecycle.finished || !lifecycle.running {
                    lifecycle.finished = true
                    return true
                }
                lifecycle.finishWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Commits offsets (the next offset to read, per partition) as this member in its current
    /// generation. Fails with REBALANCE_IN_PROGRESS when the member is between generations, and
    /// with the coordinator's error when it refuses the member (ILLEGAL_GENERATION,
    /// UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS), in which case the member also rejoins. (Untyped
    /// throws: typed ones crashed the release build's coroutine splitting in `Admin.commit`.)
    func commit(_ offsets: [TopicPartition: Int64]) async throws {
        guard !offsets.isEmpty else { return }
        let group = self.configuration.groupId
        guard let identity = self.identity else {
            throw TernClientError.kafka(.rebalanceInProgress, "OffsetCommit for group \"\(group)\" between generations")
        }
        let request = OffsetCommitRequest(
            groupId: group,
            generationIdOrMemberEpoch: identity.generation,
            memberId: identity.memberId,
            topics: Dictionary(grouping: offsets, by: \.key.topic).map { topic, entries in
                OffsetCommitRequest.OffsetCommitRequestTopic(
                    name: topic,
                    partitions: entries.map {
                        OffsetCommitRequest.OffsetCommitRequestPartition(
                            partitionIndex: $0.key.partition,
                            committedOffset: $0.value,
                            committedMetadata: nil  // null (the schema's default is empty)
                        )
                    }.sorted { $0.partitionIndex < $1.partitionIndex }
                )
            }.sorted { $0.name < $1.name }
        )
        let response = try await self.cluster.sendToCoordinator(.group(group), request) { response in
            // Coordinator moves come per partition; surfacing them makes sendToCoordinator retry.
            Cluster.coordinatorMove(in: response.topics.flatMap { $0.partitions.map(\.errorCode) })
        }
        for topic in response.topics {
            for partition in topic.partitions where partition.errorCode != .none {
                let code = partition.errorCode
                if code == .illegalGeneration || code == .unknownMemberId || code == .rebalanceInProgress {
                    self.machine.withLock { $0.commitRejected(code) }
                    self.wake.signal()
                }
                throw TernClientError.kafka(
                    code,
                    "OffsetCommit for \(topic.name)[\(partition.partitionIndex)] in group \"\(group)\""
                )
            }
        }
    }

    /// The group's committed offsets for these partitions; partitions without a commit are left out.
    func fetchCommitted(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        try await self.cluster.fetchCommittedOffsets(group: self.configuration.groupId, partitions: partitions)
    }
}
