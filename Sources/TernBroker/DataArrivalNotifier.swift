import Synchronization
import TernStorage

/// Wakes long-polling fetches when data arrives on a partition they read, so a fetch waiting for
/// `min_bytes` answers as soon as the data is there instead of polling.
///
/// Each partition has an arrival counter. A fetch snapshots the counters of its partitions before
/// it reads the logs and then waits on that snapshot: an append that lands between the read and
/// the wait has already moved a counter, so the wait returns at once and no wakeup is lost.
final class DataArrivalNotifier: Sendable {
    private struct Waiter {
        var partitions: Set<TopicPartition>
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var counters: [TopicPartition: UInt64] = [:]
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiterId: UInt64 = 0
    }

    private let state = Mutex(State())

    func snapshot(_ partitions: some Sequence<TopicPartition>) -> [TopicPartition: UInt64] {
        self.state.withLock { state in
            Dictionary(partitions.map { ($0, state.counters[$0, default: 0]) }, uniquingKeysWith: { first, _ in first })
        }
    }

    func notifyArrival(_ partition: TopicPartition) {
        let woken = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.counters[partition, default: 0] &+= 1
            let ids = state.waiters.filter { $0.value.partitions.contains(partition) }.map(\.key)
            return ids.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
        }
        woken.forEach { $0.resume() }
    }

    /// Returns when data arrived on one of the snapshot's partitions since the snapshot was taken,
    /// when `timeout` has passed, or when the task is cancelled.
    func waitForArrival(since snapshot: [TopicPartition: UInt64], timeout: Duration) async {
        guard timeout > .zero, !snapshot.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.waitWithoutTimeout(since: snapshot) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitWithoutTimeout(since snapshot: [TopicPartition: UInt64]) async {
        let waiterId = self.state.withLock { state in
            defer { state.nextWaiterId &+= 1 }
            return state.nextWaiterId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = self.state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    if snapshot.contains(where: { state.counters[$0.key, default: 0] != $0.value }) { return true }
                    state.waiters[waiterId] = Waiter(partitions: Set(snapshot.keys), continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.state.withLock { $0.waiters.removeValue(forKey: waiterId) }?.continuation.resume()
        }
    }
}
