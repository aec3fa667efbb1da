import Synchronization

/// Counts permits for async tasks; `acquire` suspends while none are left and returns early,
/// without a permit, when its task is cancelled (the caller checks `Task.isCancelled`).
final class AsyncSemaphore: Sendable {
    private struct State {
        var permits: Int
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var order: [UInt64] = []
        var nextId: UInt64 = 0
    }

    private let state: Mutex<State>

    init(permits: Int) {
        precondition(permits > 0)
        self.state = Mutex(State(permits: permits))
    }

    func acquire() async {
        let id = self.state.withLock { state in
            defer { state.nextId &+= 1 }
            return state.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let acquired = self.state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    if state.permits > 0 {
                        state.permits -= 1
                        return true
                    }
                    state.waiters[id] = continuation
                    state.order.append(id)
                    return false
                }
                if acquired { continuation.resume() }
            }
        } onCancel: {
            let continuation = self.state.withLock { state in
                state.order.removeAll { $0 == id }
                return state.waiters.removeValue(forKey: id)
            }
            continuation?.resume()
        }
    }

    func release() {
        let continuation = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            while !state.order.isEmpty {
                let id = state.order.removeFirst()
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            }
            state.permits += 1
            return nil
        }
        continuation?.resume()
    }
}
