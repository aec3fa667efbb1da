import NIOCore
import TernWire

/// The records of the internal compacted topic `__consumer_offsets`, encoded exactly as Kafka does
/// so the log can be read by Kafka tools (and Kafka's logs by Tern).
///
/// Key and value each start with an int16 record version; the key's version says what the record
/// is (Kafka's `LegacyOffsetCommitKey` = 0, `OffsetCommitKey` = 1, `GroupMetadataKey` = 2):
///
/// ```
/// key v0/v1 (offset commit):  version i16 | group str | topic str | partition i32
/// key v2    (group metadata): version i16 | group str
/// OffsetCommitValue v0: version i16 | offset i64 | metadata str | commitTimestamp i64
///                   v1: version i16 | offset i64 | metadata str | commitTimestamp i64 | expireTimestamp i64
///                   v2: same fields as v0
///                   v3: version i16 | offset i64 | leaderEpoch i32 | metadata str | commitTimestamp i64
///                   v4: v3's fields, flexible (compact string, tagged fields)
/// GroupMetadataValue v0–v3: version i16 | protocolType str | generation i32 | protocol str? | leader str?
///                   | currentStateTimestamp i64 (v2+) | members [memberId str | groupInstanceId str? (v3+)
///                   | clientId str | clientHost str | rebalanceTimeout i32 (v1+) | sessionTimeout i32
///                   | subscription bytes | assignment bytes]
///                   v4: v3's fields, flexible
/// ```
/// `str` is an int16 length and UTF-8, `str?` allows length -1 (null), `bytes` has an int32 length,
/// `[...]` an int32 count. A null value is a tombstone: the offset, or the group, is deleted, and
/// compaction eventually drops the key. Tern writes what Kafka 2.3+ writes: offset key v1, value v3
/// (v1 when the commit asked for an explicit retention time), group metadata value v3. It reads v0–v4.
public enum CoordinatorRecord: Hashable, Sendable {
    case offsetCommit(OffsetCommitKey, OffsetCommitValue?)
    case groupMetadata(groupId: String, GroupMetadataValue?)

    /// The group the record belongs to.
    public var groupId: String {
        switch self {
        case .offsetCommit(let key, _): key.group
        case .groupMetadata(let groupId, _): groupId
        }
    }

    /// The record's key bytes.
    public func encodeKey(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        switch self {
        case .offsetCommit(let key, _):
            buffer.writeInteger(Int16(1))
            buffer.writeKafkaString(key.group)
            buffer.writeKafkaString(key.topic)
            buffer.writeInteger(key.partition)
        case .groupMetadata(let groupId, _):
            buffer.writeInteger(Int16(2))
            buffer.writeKafkaString(groupId)
        }
        return buffer
    }

    /// The record's value bytes, nil for a tombstone.
    public func encodeValue(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer? {
        switch self {
        case .offsetCommit(_, let value):
            value.map { $0.encode(allocator: allocator) }
        case .groupMetadata(_, let value):
            value.map { $0.encode(allocator: allocator) }
        }
    }

    /// Decodes a `__consumer_offsets` record. A nil value is a tombstone.
    public static func decode(key: ByteBuffer, value: ByteBuffer?) throws(InternalRecordError) -> Self {
        var key = key
        let keyVersion: Int16 = try readRecordField(&key, "key version") { buffer throws(WireError) in
            try buffer.readKafkaInteger()
        }
        switch keyVersion {
        case 0, 1:
            let commitKey = try readRecordField(&key, "offset commit key") { buffer throws(WireError) in
                OffsetCommitKey(
                    group: try buffer.readKafkaString(),
                    topic: try buffer.readKafkaString(),
                    partition: try buffer.readKafkaInteger()
                )
            }
            try expectRecordConsumed(key, "offset commit key")
            return .offsetCommit(
                commitKey,
                try value.map { bytes throws(InternalRecordError) in try OffsetCommitValue.decode(bytes) }
            )
        case 2:
            let groupId = try readRecordField(&key, "group metadata key") { buffer throws(WireError) in
                try buffer.readKafkaString()
            }
            try expectRecordConsumed(key, "group metadata key")
            return .groupMetadata(
                groupId: groupId,
                try value.map { bytes throws(InternalRecordError) in try GroupMetadataValue.decode(bytes) }
            )
        default:
            throw InternalRecordError(.unknownKeyVersion, "record key version \(keyVersion)")
        }
    }
}

/// The key of a committed offset.
public struct OffsetCommitKey: Hashable, Sendable {
    public var group: String
    public var topic: String
    public var partition: Int32

    public init(group: String, topic: String, partition: Int32) {
        self.group = group
        self.topic = topic
        self.partition = partition
    }
}

/// A committed offset as stored (Kafka's `OffsetCommitValue`).
public struct OffsetCommitValue: Hashable, Sendable {
    public var offset: Int64
    /// -1 when unknown (every OffsetCommit before v6).
    public var leaderEpoch: Int32
    public var metadata: String
    public var commitTimestampMs: Int64
    /// Set only when the commit asked for its own retention (OffsetCommit v2–v4); such values are
    /// written as version 1, the only version with this field.
    public var expireTimestampMs: Int64?

    public init(
        offset: Int64,
        leaderEpoch: Int32 = -1,
        metadata: String,
        commitTimestampMs: Int64,
        expireTimestampMs: Int64? = nil
    ) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestampMs = commitTimestampMs
        self.expireTimestampMs = expireTimestampMs
    }

    /// The version Kafka writes for this value: 1 with an expiry timestamp, 3 otherwise.
    public var recordVersion: Int16 { self.expireTimestampMs == nil ? 3 : 1 }

    public func encode(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 32 + self.metadata.utf8.count)
        let version = self.recordVersion
        buffer.writeInteger(version)
        buffer.writeInteger(self.offset)
        if version >= 3 { buffer.writeInteger(self.leaderEpoch) }
        buffer.writeKafkaString(self.metadata)
        buffer.writeInteger(self.commitTimestampMs)
        if version == 1 { buffer.writeInteger(self.expireTimestampMs ?? -1) }
        return buffer
    }

    public static func decode(_ bytes: ByteBuffer) throws(InternalRecordError) -> Self {
        var bytes = bytes
        let version: Int16 = try readRecordField(&bytes, "offset commit value version") { buffer throws(WireError) in
            try buffer.readKafkaInteger()
        }
        guard (0...4).contains(version) else {
            throw InternalRecordError(.unknownValueVersion, "OffsetCommitValue version \(version)")
        }
        let flexible = version >= 4
        let value = try readRecordField(&bytes, "OffsetCommitValue v\(version)") { buffer throws(WireError) in
            let offset: Int64 = try buffer.readKafkaInteger()
            let leaderEpoch: Int32 = version >= 3 ? try buffer.readKafkaInteger() : -1
            let metadata = try buffer.readKafkaString(flexible: flexible)
            let commitTimestampMs: Int64 = try buffer.readKafkaInteger()
            let expireTimestampMs: Int64 = version == 1 ? try buffer.readKafkaInteger() : -1
            if flexible { _ = try buffer.readKafkaTaggedFields() }
            return OffsetCommitValue(
                offset: offset,
                leaderEpoch: leaderEpoch,
                metadata: metadata,
                commitTimestampMs: commitTimestampMs,
                expireTimestampMs: expireTimestampMs == -1 ? nil : expireTimestampMs
            )
        }
        try expectRecordConsumed(bytes, "OffsetCommitValue v\(version)")
        return value
    }
}

/// A classic group's membership and assignment as stored after each rebalance (Kafka's
/// `GroupMetadataValue`).
public struct GroupMetadataValue: Hashable, Sendable {
    public struct Member: Hashable, Sendable {
        public var memberId: String
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        public var rebalanceTimeoutMs: Int32
        public var sessionTimeoutMs: Int32
        /// The member's metadata for the chosen protocol.
        public var subscription: ByteBuffer
        public var assignment: ByteBuffer

        public init(
            memberId: String,
            groupInstanceId: String? = nil,
            clientId: String,
            clientHost: String,
            rebalanceTimeoutMs: Int32,
            sessionTimeoutMs: Int32,
            subscription: ByteBuffer,
            assignment: ByteBuffer
        ) {
            self.memberId = memberId
            self.groupInstanceId = groupInstanceId
            self.clientId = clientId
            self.clientHost = clientHost
            self.rebalanceTimeoutMs = rebalanceTimeoutMs
            self.sessionTimeoutMs = sessionTimeoutMs
            self.subscription = subscription
            self.assignment = assignment
        }
    }

    public var protocolType: String
    public var generation: Int32
    public var protocolName: String?
    public var leader: String?
    /// When the group entered its current state; -1 if unknown (versions before 2).
    public var currentStateTimestampMs: Int64
    public var members: [Member]

    public init(
        protocolType: String,
        generation: Int32,
        protocolName: String?,
        leader: String?,
        currentStateTimestampMs: Int64,
        members: [Member]
    ) {
        self.protocolType = protocolType
        self.generation = generation
        self.protocolName = protocolName
        self.leader = leader
        self.currentStateTimestampMs = currentStateTimestampMs
        self.members = members
    }

    /// Always version 3, as Kafka 2.3+ writes.
    public func encode(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeInteger(Int16(3))
        buffer.writeKafkaString(self.protocolType)
        buffer.writeInteger(self.generation)
        buffer.writeKafkaNullableString(self.protocolName)
        buffer.writeKafkaNullableString(self.leader)
        buffer.writeInteger(self.currentStateTimestampMs)
        buffer.writeKafkaArray(self.members) { buffer, member in
            buffer.writeKafkaString(member.memberId)
            buffer.writeKafkaNullableString(member.groupInstanceId)
            buffer.writeKafkaString(member.clientId)
            buffer.writeKafkaString(member.clientHost)
            buffer.writeInteger(member.rebalanceTimeoutMs)
            buffer.writeInteger(member.sessionTimeoutMs)
            buffer.writeKafkaBytes(member.subscription)
            buffer.writeKafkaBytes(member.assignment)
        }
        return buffer
    }

    public static func decode(_ bytes: ByteBuffer) throws(InternalRecordError) -> Self {
        var bytes = bytes
        let version: Int16 = try readRecordField(&bytes, "group metadata value version") { buffer throws(WireError) in
            try buffer.readKafkaInteger()
        }
        guard (0...4).contains(version) else {
            throw InternalRecordError(.unknownValueVersion, "GroupMetadataValue version \(version)")
        }
        let flexible = version >= 4
        let value = try readRecordField(&bytes, "GroupMetadataValue v\(version)") { buffer throws(WireError) in
            let protocolType = try buffer.readKafkaString(flexible: flexible)
            let generation: Int32 = try buffer.readKafkaInteger()
            let protocolName = try buffer.readKafkaNullableString(flexible: flexible)
            let leader = try buffer.readKafkaNullableString(flexible: flexible)
            let currentStateTimestampMs: Int64 = version >= 2 ? try buffer.readKafkaInteger() : -1
            let members = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                let memberId = try buffer.readKafkaString(flexible: flexible)
                let groupInstanceId = version >= 3 ? try buffer.readKafkaNullableString(flexible: flexible) : nil
                let clientId = try buffer.readKafkaString(flexible: flexible)
                let clientHost = try buffer.readKafkaString(flexible: flexible)
                let rebalanceTimeoutMs: Int32? = version >= 1 ? try buffer.readKafkaInteger() : nil
                let sessionTimeoutMs: Int32 = try buffer.readKafkaInteger()
                let subscription = try buffer.readKafkaBytes(flexible: flexible)
                let assignment = try buffer.readKafkaBytes(flexible: flexible)
                if flexible { _ = try buffer.readKafkaTaggedFields() }
                return Member(
                    memberId: memberId,
                    groupInstanceId: groupInstanceId,
                    clientId: clientId,
                    clientHost: clientHost,
                    // v0 had no rebalance timeout; Kafka falls back to the session timeout.
                    rebalanceTimeoutMs: rebalanceTimeoutMs ?? sessionTimeoutMs,
                    sessionTimeoutMs: sessionTimeoutMs,
                    subscription: subscription,
                    assignment: assignment
                )
            }
            if flexible { _ = try buffer.readKafkaTaggedFields() }
            return GroupMetadataValue(
                protocolType: protocolType,
                generation: generation,
                protocolName: protocolName,
                leader: leader,
                currentStateTimestampMs: currentStateTimestampMs,
                members: members
            )
        }
        try expectRecordConsumed(bytes, "GroupMetadataValue v\(version)")
        return value
    }
}

/// Java's `String.hashCode()`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, in wrapping
/// 32-bit arithmetic.
public func javaStringHashCode(_ string: String) -> Int32 {
    var hash: Int32 = 0
    for unit in string.utf16 {
        hash = hash &* 31 &+ Int32(unit)
    }
    return hash
}

/// The `__consumer_offsets` partition that holds `groupId`'s records, as Kafka computes it:
/// `Utils.abs(groupId.hashCode()) % partitionCount`. Kafka's `Utils.abs` maps `Int32.min` to 0
/// (where `Math.abs` would return `Int32.min` and so a negative partition).
public func consumerOffsetsPartition(forGroup groupId: String, partitionCount: Int32) -> Int32 {
    precondition(partitionCount > 0, "__consumer_offsets needs at least one partition")
    let hash = javaStringHashCode(groupId)
    let positive = hash == Int32.min ? 0 : abs(hash)
    return positive % partitionCount
}
