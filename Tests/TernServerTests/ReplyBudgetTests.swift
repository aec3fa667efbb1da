import Synchronization
import Testing

@testable import TernServer

@Suite struct ReplyBudgetTests {
    /// A waiter that records when it returned.
    private final class Waiter: Sendable {
        private final class Flag: Sendable {
            let value = Atomic<Bool>(false)
        }

        private let returned = Flag()
        let task: Task<Void, Never>

        init(_ budget: ReplyBudget, cancelledFirst: Bool = false) {
            let returned = self.returned
            self.task = Task {
                if cancelledFirst { withUnsafeCurrentTask { $0?.cancel() } }
                await budget.waitForRoom()
                returned.value.store(true, ordering: .sequentiallyConsistent)
            }
        }

        var hasReturned: Bool { self.returned.value.load(ordering: .sequentiallyConsistent) }

        func returns(within limit: Duration) async throws -> Bool {
            let deadline = ContinuousClock.now + limit
            while !self.hasReturned, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            return self.hasReturned
        }
    }

    @Test func waitsWhileTheQueuedBytesReachTheLimitAndResumesBelowIt() async throws {
        let budget = ReplyBudget(limit: 100)
        await budget.waitForRoom()  // empty: room at once
        budget.add(60)
        await budget.waitForRoom()  // 60 < 100
        budget.add(60)  // one reply may cross the limit
        #expect(budget.queuedBytes == 120)
        let waiter = Waiter(budget)
        try await Task.sleep(for: .milliseconds(50))
        budget.remove(10)  // 110: still no room
        try await Task.sleep(for: .milliseconds(50))
        #expect(!waiter.hasReturned, "resumed at 110 queued bytes with a limit of 100")
        budget.remove(20)  // 90
        #expect(try await waiter.returns(within: .seconds(10)))
        #expect(budget.queuedBytes == 90)
    }

    @Test func aCancelledWaiterReturns() async throws {
        let budget = ReplyBudget(limit: 10)
        budget.add(10)
        let waiter = Waiter(budget)
        try await Task.sleep(for: .milliseconds(20))
        #expect(!waiter.hasReturned)
        waiter.task.cancel()
        #expect(try await waiter.returns(within: .seconds(10)))
        // A task cancelled before it waits does not wait at all.
        #expect(try await Waiter(budget, cancelledFirst: true).returns(within: .seconds(10)))
    }
}
