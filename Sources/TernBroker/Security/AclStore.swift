import FoundationEssentials
import NIOCore
import Synchronization
import TernStorage
import TernWire

/// One small file in the data directory, read whole and replaced atomically (LogManager's data
/// files), as the security stores keep their state; nil in tests that keep it in memory.
struct DataFileAccess: Sendable {
    var read: @Sendable () throws -> [UInt8]?
    var write: @Sendable ([UInt8]) throws -> Void

    init(read: @escaping @Sendable () throws -> [UInt8]?, write: @escaping @Sendable ([UInt8]) throws -> Void) {
        self.read = read
        self.write = write
    }

    init(_ logs: LogManager, _ name: String) {
        self.read = { try logs.readDataFile(named: name).map { Array($0.readableBytesView) } }
        self.write = { try logs.writeDataFile(named: name, bytes: ByteBuffer(bytes: $0)) }
    }
}

/// The ACLs, persisted in the data directory (`acls`, JSON) before CreateAcls or DeleteAcls
/// answers, and loaded at start.
final class AclStore: Sendable {
    static let fileName = "acls"
    /// The bindings, and the same by resource (rebuilt on every change: a request's checks look at
    /// the bindings of its resource, not at all of them).
    private let bindings: Mutex<(all: [AclBinding], index: AclIndex)>
    private let files: DataFileAccess?

    init(files: DataFileAccess?) throws {
        self.files = files
        var loaded: [AclBinding] = []
        if let bytes = try files?.read() {
            do {
                loaded = try JSONDecoder().decode([AclBinding].self, from: Data(bytes))
            } catch {
                throw AclError("the data directory's \(Self.fileName) cannot be read: \(error)")
            }
        }
        self.bindings = Mutex((loaded, AclIndex(loaded)))
    }

    var all: [AclBinding] { self.bindings.withLock { $0.all } }

    /// The bindings that may cover `name` of `type` (literal, `*` and prefixed ones).
    func bindings(on type: AclResourceType, _ name: String) -> [AclBinding] {
        self.bindings.withLock { $0.index.bindings(on: type, name) }
    }

    /// Adds the bindings not already present; persists before returning (and changes nothing
    /// when the file cannot be written). Under the lock, so writes land in order.
    func add(_ new: [AclBinding]) throws {
        try self.bindings.withLock { bindings in
            var updated = bindings.all
            for binding in new where !updated.contains(binding) { updated.append(binding) }
            try self.persist(updated)
            bindings = (updated, AclIndex(updated))
        }
    }

    /// Removes the bindings each filter matches and returns them, per filter; persisted as `add`.
    func remove(matching filters: [AclBindingFilter]) throws -> [[AclBinding]] {
        try self.bindings.withLock { bindings in
            let removed = filters.map { filter in bindings.all.filter { filter.matches($0) } }
            let gone = Set(removed.joined())
            let updated = bindings.all.filter { !gone.contains($0) }
            try self.persist(updated)
            bindings = (updated, AclIndex(updated))
            return removed
        }
    }

    private func persist(_ snapshot: [AclBinding]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try self.files?.write(Array(try encoder.encode(snapshot)))
    }
}

/// ACL bindings by resource type and literal name (`*` among them), and the prefixed ones by type,
/// so that finding the bindings on one resource costs two lookups and a pass over the prefixes.
struct AclIndex: Sendable {
    private var literal: [AclResourceType: [String: [AclBinding]]] = [:]
    private var prefixed: [AclResourceType: [AclBinding]] = [:]

    init(_ bindings: [AclBinding]) {
        for binding in bindings {
            switch binding.patternType {
            case .prefixed: self.prefixed[binding.resourceType, default: []].append(binding)
            default: self.literal[binding.resourceType, default: [:]][binding.resourceName, default: []].append(binding)
            }
        }
    }

    func bindings(on type: AclResourceType, _ name: String) -> [AclBinding] {
        let byName = self.literal[type]
        var found = byName?[name] ?? []
        if name != "*", let wildcard = byName?["*"] { found += wildcard }
        if let prefixed = self.prefixed[type] { found += prefixed.filter { name.hasPrefix($0.resourceName) } }
        return found
    }
}
