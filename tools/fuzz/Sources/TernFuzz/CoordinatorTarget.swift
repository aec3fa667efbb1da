import NIOCore
import TernCoordinator
import TernWire

/// `offsets`: `__consumer_offsets` records replayed into a coordinator as at broker start-up, then
/// the restored groups described, listed and their session timers fired. The input is a list of
/// records, each an int16 key length, the key, an int32 value length (-1: tombstone) and the value.
/// A record that decodes must encode back to bytes that decode to the same record.
func fuzzOffsets(_ input: ByteBuffer) {
    var input = input
    var coordinator = GroupCoordinator()
    var groupIds: Set<String> = []
    while let keyLength = input.readInteger(as: UInt16.self),
        let key = input.readSlice(length: min(Int(keyLength), input.readableBytes)),
        let valueLength = input.readInteger(as: Int32.self)
    {
        let value = valueLength < 0 ? nil : input.readSlice(length: min(Int(valueLength), input.readableBytes))
        guard let record = try? CoordinatorRecord.decode(key: key, value: value) else { continue }
        let again = try? CoordinatorRecord.decode(key: record.encodeKey(), value: record.encodeValue())
        check(again == record, "coordinator record does not round-trip: \(record)")
        coordinator.replay(record)
        groupIds.insert(record.groupId)
    }
    let nowMs: Int64 = 1_700_000_000_000
    let restored = coordinator.restoredSessions(nowMs: nowMs)
    let groups = groupIds.sorted()
    for groupId in groups {
        _ = coordinator.state(ofGroup: groupId)
        _ = coordinator.members(ofGroup: groupId)
        _ = coordinator.leader(ofGroup: groupId)
        _ = coordinator.committedOffsets(ofGroup: groupId)
    }
    _ = coordinator.describeGroups(DescribeGroupsRequest(groups: groups))
    _ = coordinator.listGroups()
    // Every restored member's session expires: the groups rebalance or empty out.
    for case .schedule(let key, let atMs) in restored.timers {
        _ = coordinator.timerFired(key, nowMs: atMs)
    }
    _ = coordinator.describeGroups(DescribeGroupsRequest(groups: groups))
}
