import NIOCore
import NIOPosix
import Synchronization

/// Wakes one waiting task: a signal sent while nobody waits is kept for the next wait. Waits can
/// end at a deadline, timed by an event loop so that no task is spawned per wait.
final class WakeSignal: Sendable {
    private struct State {
        var signaled = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.signaled = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when signalled or at `deadline` (nil: no deadline).
    func wait(until deadline: ContinuousClock.Instant?) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let generation = self.state.withLock { state -> Int? in
                if state.signaled {
                    state.signaled = false
                    return nil
                }
                state.generation &+= 1
                state.waiter = continuation
                return state.generation
            }
            guard let generation else {
                continuation.resume()
                return
            }
            if let deadline {
                let delay = max(deadline - .now, .zero)
                MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(delay)) { [self] in
                    let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                        guard state.generation == generation, let waiter = state.waiter else { return nil }
                        state.waiter = nil
                        return waiter
                    }
                    waiter?.resume()
                }
            }
        }
    }
}
