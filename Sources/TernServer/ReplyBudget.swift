import Synchronization

/// Bytes of replies one connection has made that its socket has not yet taken. The connection's
/// reader waits for room before it handles the next request, so a client that sends requests but
/// stops reading makes the broker hold at most about `limit` bytes for it (plus the one reply that
/// crossed the limit), not `maximumInFlightRequests` whole fetch responses.
///
/// One waiter at most: the connection's reader.
final class ReplyBudget: Sendable {
    private struct State {
        var queuedBytes = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
    }

    var queuedBytes: Int { self.state.withLock { $0.queuedBytes } }

    /// A reply of `bytes` was made.
    func add(_ bytes: Int) {
        guard bytes > 0 else { return }
        self.state.withLock { $0.queuedBytes += bytes }
    }

    /// A reply of `bytes` was handed to the socket.
    func remove(_ bytes: Int) {
        guard bytes > 0 else { return }
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.queuedBytes -= bytes
            guard state.queuedBytes < self.limit else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns once the queued bytes are below the limit, or when the task is cancelled.
    func waitForRoom() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let hasRoom = self.state.withLock { state -> Bool in
                    if Task.isCancelled || state.queuedBytes < self.limit { return true }
                    precondition(state.waiter == nil, "one reader per connection")
                    state.waiter = continuation
                    return false
                }
                if hasRoom { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
