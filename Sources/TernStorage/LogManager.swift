public import Logging
import NIOCore
import Synchronization

/// What the manager knows about a topic.
public struct TopicDescription: Sendable, Hashable {
    public var name: String
    /// Kafka's topic id (KIP-516): random at creation, persisted, never reused by a topic of the
    /// same name created later.
    public var topicId: TopicId
    public var partitionCount: Int32
    /// The effective settings: broker defaults with the topic's overrides applied.
    public var config: LogConfig
    /// The topic's own configs (set at creation or by AlterConfigs), as given; what
    /// DescribeConfigs reports as the topic's source.
    public var configOverrides: [String: String]
}

/// Writes the data directory's offset checkpoint files; holds the partitions they list.
final class CheckpointStore: Sendable {
    static let recoveryPointFileName = "recovery-point-offset-checkpoint"
    static let logStartOffsetFileName = "log-start-offset-checkpoint"
    /// Kafka's name: per partition, the log cleaner's clean/dirty boundary.
    static let cleanerOffsetFileName = "cleaner-offset-checkpoint"

    let dataDirectory: String
    let fileSystem: any FileSystem
    let partitions = Mutex<[TopicPartition: PartitionLog]>([:])
    /// Serializes writers, which share the temporary file name.
    private let writeLock = Mutex(())

    init(dataDirectory: String, fileSystem: any FileSystem) {
        self.dataDirectory = dataDirectory
        self.fileSystem = fileSystem
    }

    func writeRecoveryPoints() throws(StorageError) {
        try self.write(Self.recoveryPointFileName) { $0.recoveryPoint }
    }

    func writeLogStartOffsets() throws(StorageError) {
        try self.write(Self.logStartOffsetFileName) { $0.logStartOffset }
    }

    func writeCleanerOffsets() throws(StorageError) {
        try self.write(Self.cleanerOffsetFileName) { $0.firstDirtyOffset }
    }

    private func write(_ fileName: String, _ value: (PartitionLog) -> Int64) throws(StorageError) {
        try self.writeLock.withLock { _ throws(StorageError) in
            let partitions = self.partitions.withLock { $0 }
            let offsets = partitions.mapValues(value)
            try self.fileSystem.writeFileAtomically(
                atPath: self.dataDirectory + "/" + fileName,
                bytes: OffsetCheckpointFile.serialize(offsets)
            )
        }
    }

    /// A checkpoint file's offsets; empty when it is missing, and (logged) when it is corrupt —
    /// both safe: a missing recovery point means a full scan, a missing log start offset means
    /// the first segment's base offset.
    func read(_ fileName: String, logger: Logger) -> [TopicPartition: Int64] {
        do {
            guard let bytes = try self.fileSystem.readWholeFile(atPath: self.dataDirectory + "/" + fileName) else {
                return [:]
            }
            return try OffsetCheckpointFile.parse(bytes)
        } catch {
            logger.warning("ignoring unreadable checkpoint", metadata: ["file": "\(fileName)", "error": "\(error)"])
            return [:]
        }
    }
}

/// What `LogManager.open` reports before it opens each partition, for readiness and progress.
public struct PartitionLoadEvent: Sendable {
    public var topicPartition: TopicPartition
    /// Partitions opened before this one.
    public var loadedCount: Int
    /// The data directory was not shut down cleanly: this partition is scanned from its recovery
    /// point.
    public var recovering: Bool
}

/// All partition logs of one data directory: topic metadata, checkpoints, startup recovery,
/// retention and clean shutdown.
///
/// Data directory layout (see `docs/storage.md` for the bytes):
///
///     <data>/topics/<topic>.properties        topic metadata (partition count, config overrides)
///     <data>/<topic>-<partition>/              one directory per partition, Kafka's segment files
///     <data>/recovery-point-offset-checkpoint  Kafka's checkpoint text format
///     <data>/log-start-offset-checkpoint
///     <data>/.tern_cleanshutdown               present only between a clean close and the next open
///     <data>/.lock                             locked while a manager has the directory open
///
/// Exclusive use: `open` locks `<data>/.lock` (see `DataDirectoryLock`) before it reads anything
/// in the directory and `close` releases it, so a second manager, in this process or another,
/// fails with `.dataDirectoryLocked` instead of recovering (truncating) logs that are in use.
///
/// Crash policy: every metadata and checkpoint file is written atomically (temp file, fsync,
/// rename, directory fsync). A topic exists once its metadata file does; creating writes the
/// partition directories first, deleting removes the metadata file first, and `open` removes
/// partition directories no metadata file claims. Without the clean-shutdown marker, `open`
/// recovers every partition from its checkpointed recovery point (see `PartitionLog`).
///
/// Thread-safety: all methods may be called concurrently. Topic creation and deletion are
/// serialized by a lock; partition operations go straight to the `PartitionLog`.
public final class LogManager: Sendable {
    public let dataDirectory: String
    static let cleanShutdownFileName = ".tern_cleanshutdown"
    static let topicsDirectoryName = "topics"
    static let topicMetadataSuffix = ".properties"

    private struct Topic {
        var description: TopicDescription
        var partitions: [PartitionLog]
    }

    private struct State {
        private(set) var topics: [String: Topic] = [:]
        /// Topic ids to names, kept in step with `topics` (Fetch v13+ names every topic by id).
        private var namesById: [TopicId: String] = [:]
        var isClosed = false
        /// Broker defaults that topics without an override of a key inherit; swappable
        /// (dynamic broker configs).
        var defaultConfig: LogConfig

        init(defaultConfig: LogConfig) {
            self.defaultConfig = defaultConfig
        }

        mutating func insert(_ topic: Topic) {
            self.topics[topic.description.name] = topic
            self.namesById[topic.description.topicId] = topic.description.name
        }

        mutating func remove(_ name: String) {
            if let removed = self.topics.removeValue(forKey: name) {
                self.namesById[removed.description.topicId] = nil
            }
        }

        mutating func setConfig(of name: String, overrides: [String: String], config: LogConfig) {
            self.topics[name]?.description.configOverrides = overrides
            self.topics[name]?.description.config = config
        }

        mutating func addPartitions(_ added: [PartitionLog], to name: String, count: Int32) {
            self.topics[name]?.description.partitionCount = count
            self.topics[name]?.partitions.append(contentsOf: added)
        }

        func topic(id: TopicId) -> Topic? {
            self.namesById[id].flatMap { self.topics[$0] }
        }
    }

    private let environment: LogEnvironment
    private let checkpoints: CheckpointStore
    private let directoryLock: DataDirectoryLock
    private let loadObserver: (@Sendable (PartitionLoadEvent) -> Void)?
    private let state: Mutex<State>
    private let adminLock = Mutex(())
    /// The log cleaner, nil when `log.cleaner.enable` is false.
    public let logCleaner: LogCleaner?

    private var fileSystem: any FileSystem { self.environment.fileSystem }
    private var topicsDirectory: String { self.dataDirectory + "/" + Self.topicsDirectoryName }

    private init(
        dataDirectory: String,
        defaultConfig: LogConfig,
        environment: LogEnvironment,
        checkpoints: CheckpointStore,
        directoryLock: DataDirectoryLock,
        loadObserver: (@Sendable (PartitionLoadEvent) -> Void)?,
        cleanerConfig: LogCleanerConfig
    ) {
        self.directoryLock = directoryLock
        self.dataDirectory = dataDirectory
        self.state = Mutex(State(defaultConfig: defaultConfig))
        self.environment = environment
        self.checkpoints = checkpoints
        self.loadObserver = loadObserver
        if cleanerConfig.isEnabled {
            self.logCleaner = LogCleaner(
                config: cleanerConfig,
                clock: environment.clock,
                logger: environment.logger,
                partitions: { checkpoints.partitions.withLock { Array($0.values) } },
                onCleaned: { [logger = environment.logger] in
                    do { try checkpoints.writeCleanerOffsets() } catch {
                        logger.error("writing the cleaner checkpoint failed", metadata: ["error": "\(error)"])
                    }
                }
            )
        } else {
            self.logCleaner = nil
        }
    }

    /// Opens a data directory (creating it if needed): locks it, loads the topics, reads the
    /// checkpoints, recovers partitions after an unclean shutdown, and removes leftovers of
    /// interrupted topic creations and deletions.
    ///
    /// - Throws: `.dataDirectoryLocked` when another manager (another process, or this one) has
    ///   the directory open; nothing in it has been read or changed then.
    ///
    /// - Parameters:
    ///   - flushThreadCount: Threads that run fsyncs (each blocks while its fsync runs).
    ///   - onPartitionLoad: Called on the opening thread before each partition of the data
    ///     directory is opened (or recovered); ternd reports it in its readiness probe.
    ///   - cleaner: The log cleaner's settings; its threads start once the directory is loaded.
    public static func open(
        dataDirectory: String,
        defaultConfig: LogConfig,
        clock: any LogClock = SystemClock(),
        fileSystem: any FileSystem = PosixFileSystem(),
        flushThreadCount: Int = 4,
        logger: Logger = Logger(label: "tern.storage"),
        onPartitionLoad: (@Sendable (PartitionLoadEvent) -> Void)? = nil,
        cleaner: LogCleanerConfig = LogCleanerConfig()
    ) async throws(StorageError) -> LogManager {
        try fileSystem.makeDirectory(atPath: dataDirectory)
        let directoryLock = try DataDirectoryLock.acquire(dataDirectory: dataDirectory, fileSystem: fileSystem)
        do {
            try fileSystem.fsyncDirectory(atPath: parentDirectory(of: dataDirectory))
        } catch {
            directoryLock.release()
            throw error
        }
        let checkpoints = CheckpointStore(dataDirectory: dataDirectory, fileSystem: fileSystem)
        let environment = LogEnvironment(
            fileSystem: fileSystem,
            clock: clock,
            flushPool: FlushThreadPool(threadCount: flushThreadCount),
            logger: logger,
            fsyncMetrics: FsyncMetrics(),
            // Strong: partitions must keep persisting even if the caller drops the manager. The
            // cycle (store → partitions → environment → store) is broken by `close`.
            persistLogStartOffsets: { () throws(StorageError) in try checkpoints.writeLogStartOffsets() }
        )
        let manager = LogManager(
            dataDirectory: dataDirectory,
            defaultConfig: defaultConfig,
            environment: environment,
            checkpoints: checkpoints,
            directoryLock: directoryLock,
            loadObserver: onPartitionLoad,
            cleanerConfig: cleaner
        )
        do {
            try manager.load()
        } catch {
            environment.flushPool.shutdown()
            directoryLock.release()
            throw error
        }
        manager.logCleaner?.start()
        return manager
    }

    private func load() throws(StorageError) {
        let fileSystem = self.fileSystem
        let logger = self.environment.logger
        let markerPath = self.dataDirectory + "/" + Self.cleanShutdownFileName
        let cleanShutdown = fileSystem.fileExists(atPath: markerPath)
        let recoveryPoints = self.checkpoints.read(CheckpointStore.recoveryPointFileName, logger: logger)
        let logStartOffsets = self.checkpoints.read(CheckpointStore.logStartOffsetFileName, logger: logger)
        let cleanerOffsets = self.checkpoints.read(CheckpointStore.cleanerOffsetFileName, logger: logger)
        try fileSystem.makeDirectory(atPath: self.topicsDirectory)

        var topics: [String: Topic] = [:]
        var loadedCount = 0
        for name in try fileSystem.listDirectory(atPath: self.topicsDirectory) {
            let path = self.topicsDirectory + "/" + name
            guard name.hasSuffix(Self.topicMetadataSuffix) else {
                if name.hasSuffix(".tmp") { try fileSystem.remove(atPath: path) }
                continue
            }
            let topicName = String(name.dropLast(Self.topicMetadataSuffix.count))
            guard Self.isValidTopicName(topicName), let bytes = try fileSystem.readWholeFile(atPath: path) else {
                continue
            }
            var metadata = try TopicMetadataFile.parse(bytes)
            if metadata.topicId == nil {
                // Written before topics had ids: give it one now, once.
                metadata.topicId = .random()
                try fileSystem.writeFileAtomically(atPath: path, bytes: metadata.serialized())
            }
            let config: LogConfig
            do {
                config = try LogConfig(properties: metadata.configOverrides, defaults: self.defaultConfig)
            } catch {
                throw StorageError(.corruptFile, "topic \(topicName) has an invalid stored config", cause: error)
            }
            var partitions: [PartitionLog] = []
            for index in 0..<metadata.partitionCount {
                let topicPartition = TopicPartition(topic: topicName, partition: index)
                self.loadObserver?(
                    PartitionLoadEvent(
                        topicPartition: topicPartition,
                        loadedCount: loadedCount,
                        recovering: !cleanShutdown
                    )
                )
                loadedCount += 1
                partitions.append(
                    try PartitionLog.open(
                        topicPartition: topicPartition,
                        directory: self.dataDirectory + "/" + topicPartition.directoryName,
                        config: config,
                        recoveryPoint: recoveryPoints[topicPartition],
                        logStartOffset: logStartOffsets[topicPartition],
                        firstDirtyOffset: cleanerOffsets[topicPartition],
                        cleanShutdown: cleanShutdown,
                        environment: self.environment
                    )
                )
            }
            let description = TopicDescription(
                name: topicName,
                topicId: metadata.topicId!,
                partitionCount: metadata.partitionCount,
                config: config,
                configOverrides: metadata.configOverrides
            )
            topics[topicName] = Topic(description: description, partitions: partitions)
        }

        // Partition directories no topic claims: an interrupted create or delete.
        for name in try fileSystem.listDirectory(atPath: self.dataDirectory) {
            guard let topicPartition = TopicPartition(directoryName: name), Self.isValidTopicName(topicPartition.topic),
                fileSystem.isDirectory(atPath: self.dataDirectory + "/" + name)
            else { continue }
            if let topic = topics[topicPartition.topic], topicPartition.partition < topic.description.partitionCount {
                continue
            }
            logger.info("removing partition directory of no topic", metadata: ["directory": "\(name)"])
            try fileSystem.removeRecursively(atPath: self.dataDirectory + "/" + name)
        }

        self.state.withLock { state in
            for topic in topics.values { state.insert(topic) }
        }
        self.checkpoints.partitions.withLock { registered in
            for topic in topics.values {
                for partition in topic.partitions { registered[partition.topicPartition] = partition }
            }
        }
        if cleanShutdown {
            // From now on a crash must be detected as unclean.
            try fileSystem.remove(atPath: markerPath)
        }
        try fileSystem.fsyncDirectory(atPath: self.dataDirectory)
        logger.info(
            "opened data directory",
            metadata: [
                "directory": "\(self.dataDirectory)", "topics": "\(topics.count)",
                "cleanShutdown": "\(cleanShutdown)",
            ]
        )
    }

    // MARK: Topics

    /// Kafka's topic name rule: 1–249 characters from `[a-zA-Z0-9._-]`, not `.` or `..`.
    public static func isValidTopicName(_ name: String) -> Bool {
        guard (1...249).contains(name.utf8.count), name != ".", name != ".." else { return false }
        return name.utf8.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 46
                || byte == 95 || byte == 45
        }
    }

    /// Creates a topic with `partitionCount` empty partitions.
    ///
    /// - Throws: `.invalidTopic` for a name Kafka would refuse, `.invalidPartitions` for a count
    ///   below 1, `.invalidConfig` for an unknown key or a bad value, `.topicAlreadyExists`,
    ///   `.closed`, or a file-system error.
    public func createTopic(
        _ name: String,
        partitionCount: Int32,
        configOverrides: [String: String] = [:]
    ) throws(StorageError) {
        guard Self.isValidTopicName(name) else {
            throw StorageError(.invalidTopic, "'\(name)' is not a valid topic name (1-249 of [a-zA-Z0-9._-])")
        }
        guard partitionCount >= 1 else {
            throw StorageError(.invalidPartitions, "a topic needs at least one partition, not \(partitionCount)")
        }
        try self.validateOverrides(configOverrides)
        try self.adminLock.withLock { _ throws(StorageError) in
            let defaults = try self.state.withLock { state throws(StorageError) in
                guard !state.isClosed else { throw StorageError(.closed, "the log manager is closed") }
                guard state.topics[name] == nil else {
                    throw StorageError(.topicAlreadyExists, "topic '\(name)' already exists")
                }
                return state.defaultConfig
            }
            // Default changes are serialized by the admin lock too, so this config is current.
            let config = try LogConfig(properties: configOverrides, defaults: defaults)
            var partitions: [PartitionLog] = []
            for index in 0..<partitionCount {
                let topicPartition = TopicPartition(topic: name, partition: index)
                let directory = self.dataDirectory + "/" + topicPartition.directoryName
                try self.fileSystem.removeRecursively(atPath: directory)
                partitions.append(
                    try PartitionLog.open(
                        topicPartition: topicPartition,
                        directory: directory,
                        config: config,
                        recoveryPoint: nil,
                        logStartOffset: nil,
                        cleanShutdown: true,
                        environment: self.environment
                    )
                )
            }
            try self.fileSystem.fsyncDirectory(atPath: self.dataDirectory)
            let topicId = TopicId.random()
            let metadata = TopicMetadataFile(
                partitionCount: partitionCount,
                configOverrides: configOverrides,
                topicId: topicId
            )
            try self.fileSystem.writeFileAtomically(atPath: self.metadataPath(name), bytes: metadata.serialized())
            let description = TopicDescription(
                name: name,
                topicId: topicId,
                partitionCount: partitionCount,
                config: config,
                configOverrides: configOverrides
            )
            self.state.withLock { $0.insert(Topic(description: description, partitions: partitions)) }
            self.checkpoints.partitions.withLock { registered in
                for partition in partitions { registered[partition.topicPartition] = partition }
            }
        }
    }

    /// Grows a topic to `partitionCount` partitions (Kafka's CreatePartitions). The new
    /// partitions' directories are created and fsynced before the metadata file is rewritten
    /// atomically, which is the commit point: a crash before it leaves directories that the next
    /// `open` removes, after it a topic with every new partition.
    ///
    /// - Throws: `.unknownTopicOrPartition` when there is no such topic, `.invalidPartitions` when
    ///   `partitionCount` is not above the current count, `.closed`, or a file-system error.
    public func addPartitions(_ name: String, partitionCount: Int32) throws(StorageError) {
        try self.adminLock.withLock { _ throws(StorageError) in
            let topic = try self.state.withLock { state throws(StorageError) -> Topic in
                guard !state.isClosed else { throw StorageError(.closed, "the log manager is closed") }
                guard let topic = state.topics[name] else {
                    throw StorageError(.unknownTopicOrPartition, "no topic '\(name)'")
                }
                return topic
            }
            let current = topic.description.partitionCount
            guard partitionCount > current else {
                throw StorageError(
                    .invalidPartitions,
                    "topic '\(name)' has \(current) partitions; the new count \(partitionCount) must be larger"
                )
            }
            var added: [PartitionLog] = []
            for index in current..<partitionCount {
                let topicPartition = TopicPartition(topic: name, partition: index)
                let directory = self.dataDirectory + "/" + topicPartition.directoryName
                try self.fileSystem.removeRecursively(atPath: directory)
                added.append(
                    try PartitionLog.open(
                        topicPartition: topicPartition,
                        directory: directory,
                        config: topic.description.config,
                        recoveryPoint: nil,
                        logStartOffset: nil,
                        cleanShutdown: true,
                        environment: self.environment
                    )
                )
            }
            try self.fileSystem.fsyncDirectory(atPath: self.dataDirectory)
            let metadata = TopicMetadataFile(
                partitionCount: partitionCount,
                configOverrides: topic.description.configOverrides,
                topicId: topic.description.topicId
            )
            try self.fileSystem.writeFileAtomically(atPath: self.metadataPath(name), bytes: metadata.serialized())
            self.state.withLock { state in
                state.addPartitions(added, to: name, count: partitionCount)
            }
            self.checkpoints.partitions.withLock { registered in
                for partition in added { registered[partition.topicPartition] = partition }
            }
        }
    }

    /// Deletes a topic and its data. Appends in flight fail with `.closed`; long-polls return.
    ///
    /// - Throws: `.unknownTopicOrPartition` when there is no such topic, or a file-system error.
    public func deleteTopic(_ name: String) throws(StorageError) {
        try self.adminLock.withLock { _ throws(StorageError) in
            guard let topic = self.state.withLock({ $0.topics[name] }) else {
                throw StorageError(.unknownTopicOrPartition, "no topic '\(name)'")
            }
            // Removing the metadata file is the commit point; the rest is cleaned up at the next
            // open if a crash interrupts it.
            try self.fileSystem.remove(atPath: self.metadataPath(name))
            try self.fileSystem.fsyncDirectory(atPath: self.topicsDirectory)
            self.state.withLock { $0.remove(name) }
            self.checkpoints.partitions.withLock { registered in
                for partition in topic.partitions { registered[partition.topicPartition] = nil }
            }
            for partition in topic.partitions {
                partition.markClosed()
                // Waits for a cleaning pass over it to stop (it checks `isClosed`).
                partition.cleanerLock.withLock { _ in }
                try self.fileSystem.removeRecursively(atPath: partition.directory)
            }
            try self.fileSystem.fsyncDirectory(atPath: self.dataDirectory)
            try self.checkpoints.writeRecoveryPoints()
            try self.checkpoints.writeLogStartOffsets()
        }
    }

    /// The checks a topic's config overrides must pass (`createTopic`, `alterTopicConfig`): known
    /// keys with values Kafka accepts, and text the metadata file can hold.
    ///
    /// - Throws: `.invalidConfig` naming the first offending key.
    public func validateOverrides(_ overrides: [String: String]) throws(StorageError) {
        for (key, value) in overrides where value.contains("\n") || key.contains("=") || key.contains("\n") {
            throw StorageError(.invalidConfig, "config '\(key)' contains a line break or '='")
        }
        _ = try LogConfig(properties: overrides, defaults: self.defaultConfig)
    }

    /// Replaces a topic's config overrides with what `change` makes of the current ones, and
    /// applies the result to its partitions at once (appends, rolls, flushes and retention from
    /// then on use it). The metadata file is rewritten atomically first, so a crash leaves the
    /// old or the new overrides, never a mix. Changes of one topic are serialized, so `change`
    /// sees the latest overrides.
    ///
    /// - Parameter validateOnly: check and return the result without changing anything.
    /// - Returns: the topic as it is (or would be) after the change.
    /// - Throws: `.unknownTopicOrPartition`, `.invalidConfig` (from `validateOverrides`, or
    ///   thrown by `change`), `.closed`, or a file-system error.
    @discardableResult
    public func alterTopicConfig(
        _ name: String,
        validateOnly: Bool = false,
        _ change: (_ current: TopicDescription, _ defaults: LogConfig) throws(StorageError) -> [String: String]
    ) throws(StorageError) -> TopicDescription {
        try self.adminLock.withLock { _ throws(StorageError) -> TopicDescription in
            let (topic, defaults) = try self.state.withLock { state throws(StorageError) in
                guard !state.isClosed else { throw StorageError(.closed, "the log manager is closed") }
                guard let topic = state.topics[name] else {
                    throw StorageError(.unknownTopicOrPartition, "no topic '\(name)'")
                }
                return (topic, state.defaultConfig)
            }
            let overrides = try change(topic.description, defaults)
            try self.validateOverrides(overrides)
            var altered = topic.description
            altered.configOverrides = overrides
            altered.config = try LogConfig(properties: overrides, defaults: defaults)
            guard !validateOnly else { return altered }
            let metadata = TopicMetadataFile(
                partitionCount: altered.partitionCount,
                configOverrides: overrides,
                topicId: altered.topicId
            )
            try self.fileSystem.writeFileAtomically(atPath: self.metadataPath(name), bytes: metadata.serialized())
            self.state.withLock { $0.setConfig(of: name, overrides: overrides, config: altered.config) }
            for partition in topic.partitions { partition.updateConfig(altered.config) }
            return altered
        }
    }

    /// The broker defaults topics inherit for keys they do not override.
    public var defaultConfig: LogConfig { self.state.withLock { $0.defaultConfig } }

    /// Replaces the broker defaults (dynamic broker configs) and re-derives every topic's
    /// config from them and its overrides, applying it to the partitions at once.
    ///
    /// - Throws: `.invalidConfig` if a topic's stored overrides do not apply over the new
    ///   defaults (they were validated when set, so only a corrupt file gets here); nothing is
    ///   changed then.
    public func setDefaultConfig(_ defaults: LogConfig) throws(StorageError) {
        try self.adminLock.withLock { _ throws(StorageError) in
            let topics = self.state.withLock { Array($0.topics.values) }
            var derived: [(Topic, LogConfig)] = []
            for topic in topics {
                derived.append(
                    (topic, try LogConfig(properties: topic.description.configOverrides, defaults: defaults))
                )
            }
            self.state.withLock { state in
                state.defaultConfig = defaults
                for (topic, config) in derived {
                    state.setConfig(
                        of: topic.description.name,
                        overrides: topic.description.configOverrides,
                        config: config
                    )
                }
            }
            for (topic, config) in derived {
                for partition in topic.partitions { partition.updateConfig(config) }
            }
        }
    }

    /// A small file of the data directory (e.g. the broker's dynamic configs), nil if missing.
    public func readDataFile(named name: String) throws(StorageError) -> ByteBuffer? {
        try self.fileSystem.readWholeFile(atPath: self.dataDirectory + "/" + name)
    }

    /// Writes a small file of the data directory atomically (temp file, fsync, rename, directory
    /// fsync), as the topic metadata files are written.
    public func writeDataFile(named name: String, bytes: ByteBuffer) throws(StorageError) {
        try self.fileSystem.writeFileAtomically(atPath: self.dataDirectory + "/" + name, bytes: bytes)
    }

    private func metadataPath(_ topic: String) -> String {
        self.topicsDirectory + "/" + topic + Self.topicMetadataSuffix
    }

    /// Names of all topics, sorted.
    public var topicNames: [String] { self.state.withLock { $0.topics.keys.sorted() } }

    public func topic(_ name: String) -> TopicDescription? {
        self.state.withLock { $0.topics[name]?.description }
    }

    /// The topic with this id, if it exists.
    public func topic(id: TopicId) -> TopicDescription? {
        self.state.withLock { $0.topic(id: id)?.description }
    }

    public func partition(topic: String, index: Int32) -> PartitionLog? {
        self.state.withLock { state in
            guard let partitions = state.topics[topic]?.partitions, index >= 0, index < partitions.count else {
                return nil
            }
            return partitions[Int(index)]
        }
    }

    /// The data directory as an absolute path (DescribeLogDirs names it so).
    public var absoluteDataDirectory: String { self.fileSystem.absolutePath(self.dataDirectory) }

    /// The size and free space of the file system holding the data directory, if it can tell.
    public var dataDirectoryVolumeSpace: VolumeSpace? { self.fileSystem.volumeSpace(atPath: self.dataDirectory) }

    /// Offsets, size and segment count of every partition, for the metrics exporter.
    public var partitionStatistics: [PartitionStatistics] {
        self.allPartitions.map(\.statistics)
    }

    private var allPartitions: [PartitionLog] {
        self.state.withLock { $0.topics.values.flatMap(\.partitions) }
    }

    // MARK: Maintenance

    /// Periodic housekeeping, for the broker to call every few seconds to minutes: applies
    /// retention (`retention.ms`, `retention.bytes`, segments below the log start offset), starts
    /// flushes that `flush.ms` made due, and writes both checkpoint files. Errors are logged.
    public func applyRetention() async {
        let nowMs = self.environment.clock.nowMs
        var logStartMoved = false
        for partition in self.allPartitions {
            partition.flushIfDue(nowMs: nowMs)
            do {
                if try partition.applyRetention(nowMs: nowMs) { logStartMoved = true }
            } catch {
                self.environment.logger.error(
                    "retention failed",
                    metadata: ["partition": "\(partition.topicPartition)", "error": "\(error)"]
                )
            }
        }
        do {
            if logStartMoved { try self.checkpoints.writeLogStartOffsets() }
            try self.checkpoints.writeRecoveryPoints()
        } catch {
            self.environment.logger.error("writing checkpoints failed", metadata: ["error": "\(error)"])
        }
    }

    /// Partitions whose log failed (see `PartitionLog.failure`), with the error.
    public var failedPartitions: [(TopicPartition, StorageError)] {
        self.allPartitions.compactMap { partition in partition.failure.map { (partition.topicPartition, $0) } }
    }

    /// Starts the flushes `flush.ms` made due (cheap; the broker may call it more often than
    /// `applyRetention`).
    public func flushDirtyLogs() {
        let nowMs = self.environment.clock.nowMs
        for partition in self.allPartitions { partition.flushIfDue(nowMs: nowMs) }
    }

    /// What a crash leaves, for crash tests (after `InMemoryFileSystem.simulateCrash()`): stops
    /// appends, wakes long-polls and stops the flush threads, but flushes, checkpoints and marks
    /// nothing, so the next `open` recovers from whatever was durable. Appends waiting for an fsync
    /// fail. Releases the data directory's lock.
    public func closeAbruptly() {
        let alreadyClosed = self.state.withLock { state in
            defer { state.isClosed = true }
            return state.isClosed
        }
        guard !alreadyClosed else { return }
        self.logCleaner?.shutdown()
        for partition in self.allPartitions { partition.markClosed() }
        self.environment.flushPool.shutdown()
        self.checkpoints.partitions.withLock { $0.removeAll() }
        self.directoryLock.release()
    }

    /// Clean shutdown: stops appends, fsyncs every partition and writes its index files, writes
    /// both checkpoints and then the clean-shutdown marker, so the next `open` scans nothing.
    /// Without the marker (a failed flush), the next open recovers. Either way the data
    /// directory's lock is released last.
    public func close() async throws(StorageError) {
        let alreadyClosed = self.state.withLock { state in
            defer { state.isClosed = true }
            return state.isClosed
        }
        guard !alreadyClosed else { return }
        self.logCleaner?.shutdown()
        let partitions = self.allPartitions
        let failures = await withTaskGroup(of: StorageError?.self) { group in
            for partition in partitions {
                group.addTask {
                    do throws(StorageError) {
                        try await partition.close()
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            var failures: [StorageError] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        defer {
            self.environment.flushPool.shutdown()
            self.checkpoints.partitions.withLock { $0.removeAll() }
            // Last: the directory is free for the next manager only once nothing writes to it.
            self.directoryLock.release()
        }
        if let failure = failures.first { throw failure }
        try self.checkpoints.writeRecoveryPoints()
        try self.checkpoints.writeLogStartOffsets()
        if self.logCleaner != nil { try self.checkpoints.writeCleanerOffsets() }
        try self.fileSystem.writeFileAtomically(
            atPath: self.dataDirectory + "/" + Self.cleanShutdownFileName,
            bytes: ByteBuffer()
        )
    }
}
