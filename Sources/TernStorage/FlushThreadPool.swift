#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A few dedicated threads that run the log's fsyncs.
///
/// fsync blocks for milliseconds; run on Swift's cooperative pool (one thread per core) it would
/// stall unrelated tasks, and under a partition's lock it would stall appends. Partitions hand
/// their flush loop to this pool instead; several threads let different partitions' fsyncs overlap
/// on the device. Work items run in submission order, each on one thread.
///
/// Thread-safety: `submit` may be called from any thread. `shutdown` runs what was already
/// submitted, then joins the threads; `submit` afterwards runs the work on the caller's thread so
/// nothing waiting on it hangs.
final class FlushThreadPool: @unchecked Sendable {
    // @unchecked: `queue`, `isShutDown` and `threads` are only touched with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue: [@Sendable () -> Void] = []
    private var queueHead = 0
    private var isShutDown = false
    private var threads: [pthread_t] = []

    init(threadCount: Int) {
        precondition(threadCount >= 1)
        pthread_mutex_init(self.mutex, nil)
        pthread_cond_init(self.condition, nil)
        for _ in 0..<threadCount {
            self.threads.append(startThread { self.runWorker() })
        }
    }

    deinit {
        pthread_cond_destroy(self.condition)
        pthread_mutex_destroy(self.mutex)
        self.condition.deallocate()
        self.mutex.deallocate()
    }

    func submit(_ work: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(self.mutex)
        if self.isShutDown {
            pthread_mutex_unlock(self.mutex)
            work()
            return
        }
        self.queue.append(work)
        pthread_cond_signal(self.condition)
        pthread_mutex_unlock(self.mutex)
    }

    /// Runs the queued work, then stops and joins the threads. Blocks the caller until then.
    func shutdown() {
        pthread_mutex_lock(self.mutex)
        guard !self.isShutDown else {
            pthread_mutex_unlock(self.mutex)
            return
        }
        self.isShutDown = true
        let threads = self.threads
        self.threads = []
        pthread_cond_broadcast(self.condition)
        pthread_mutex_unlock(self.mutex)
        for thread in threads { pthread_join(thread, nil) }
    }

    private func runWorker() {
        while true {
            pthread_mutex_lock(self.mutex)
            while self.queueHead == self.queue.count && !self.isShutDown {
                pthread_cond_wait(self.condition, self.mutex)
            }
            guard self.queueHead < self.queue.count else {
                pthread_mutex_unlock(self.mutex)
                return  // Shut down and drained.
            }
            let work = self.queue[self.queueHead]
            self.queueHead += 1
            if self.queueHead == self.queue.count {
                self.queue.removeAll(keepingCapacity: true)
                self.queueHead = 0
            }
            pthread_mutex_unlock(self.mutex)
            work()
        }
    }
}

/// Starts a joinable pthread running `body`, which (with what it captures) stays retained until
/// it returns: the flush pool's and the log cleaner's threads.
func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Body(body)).toOpaque()
    let result = pthread_create(
        &thread,
        nil,
        { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        },
        context
    )
    precondition(result == 0, "pthread_create failed with \(result)")
    return thread
}
