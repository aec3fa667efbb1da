import Glibc
import NIOCore
import TernStorage
import Testing

/// The data directory's `.lock`: one manager at a time, the holder named, no stale lock.
@Suite struct DataDirectoryLockTests {
    @Test func fileLocksExcludeOtherHoldersUntilClosed() throws {
        try FileSystemTests.withEachFileSystem { fileSystem, directory in
            try fileSystem.makeDirectory(atPath: directory)
            let path = directory + "/lock"
            let first = try #require(try fileSystem.openFileLocked(atPath: path))
            // A second open file description, in the same process, does not get it either.
            #expect(try fileSystem.openFileLocked(atPath: path) == nil)
            // Reading the file through another handle leaves the lock alone (an fcntl lock would
            // have been dropped by that close).
            _ = try fileSystem.readWholeFile(atPath: path)
            #expect(try fileSystem.openFileLocked(atPath: path) == nil)
            try first.close()
            let second = try #require(try fileSystem.openFileLocked(atPath: path))
            try second.close()
        }
    }

    @Test func aSecondManagerIsRefusedWithTheHoldersPidAndReadsNothing() async throws {
        let storage = TestStorage()
        let manager = try await storage.open()
        try manager.createTopic("t", partitionCount: 1)
        #expect(storage.fileSystem.contents(ofPath: "/data/.lock") == Array("\(getpid())\n".utf8))

        let readBefore = storage.fileSystem.readByteCount
        let error = await #expect(throws: StorageError(.dataDirectoryLocked)) { try await storage.open() }
        #expect(error?.message.contains("/data") == true, "\(String(describing: error))")
        #expect(error?.message.contains("pid \(getpid())") == true, "\(String(describing: error))")
        // Only the lock file was read (to name the holder): no checkpoint, metadata or segment.
        #expect(storage.fileSystem.readByteCount - readBefore == "\(getpid())\n".utf8.count)

        try await manager.close()
        let reopened = try await storage.open()
        #expect(reopened.topicNames == ["t"])
        try await reopened.close()
    }

    /// The process holding the lock dies: the lock goes with it.
    @Test func aCrashReleasesTheLock() async throws {
        let storage = TestStorage()
        let manager = try await storage.open()
        _ = manager
        storage.fileSystem.simulateCrash()
        let reopened = try await storage.open()
        try await reopened.close()
    }

    /// On the real file system: two managers in one process conflict too (flock is per open
    /// file description), and close hands the directory over.
    @Test func posixManagersExcludeEachOther() async throws {
        var template = Array("/tmp/tern-lock-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        defer { try? PosixFileSystem().removeRecursively(atPath: directory) }
        let first = try await LogManager.open(dataDirectory: directory, defaultConfig: LogConfig())
        await #expect(throws: StorageError(.dataDirectoryLocked)) {
            try await LogManager.open(dataDirectory: directory, defaultConfig: LogConfig())
        }
        try await first.close()
        let second = try await LogManager.open(dataDirectory: directory, defaultConfig: LogConfig())
        try await second.close()
    }
}
