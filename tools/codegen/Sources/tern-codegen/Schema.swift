import Foundation

/// A version range of a schema: `"3+"`, `"0-7"`, `"5"` or `"none"`.
struct Versions: Equatable, CustomStringConvertible {
    var lowest: Int
    /// nil: open-ended (`"3+"`).
    var highest: Int?
    var isEmpty: Bool

    static let none = Versions(lowest: 0, highest: -1, isEmpty: true)
    static let all = Versions(lowest: 0, highest: nil, isEmpty: false)

    init(lowest: Int, highest: Int?, isEmpty: Bool = false) {
        self.lowest = lowest
        self.highest = highest
        self.isEmpty = isEmpty || (highest.map { $0 < lowest } ?? false)
    }

    init(parsing text: String) throws {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text == "none" {
            self = .none
        } else if text.hasSuffix("+"), let low = Int(text.dropLast()) {
            self.init(lowest: low, highest: nil)
        } else if let dash = text.firstIndex(of: "-"), let low = Int(text[..<dash]),
            let high = Int(text[text.index(after: dash)...])
        {
            self.init(lowest: low, highest: high)
        } else if let single = Int(text) {
            self.init(lowest: single, highest: single)
        } else {
            throw SchemaError("unreadable version range \"\(text)\"")
        }
    }

    func contains(_ version: Int) -> Bool {
        !self.isEmpty && version >= self.lowest && version <= (self.highest ?? Int.max)
    }

    func intersection(_ other: Versions) -> Versions {
        if self.isEmpty || other.isEmpty { return .none }
        let low = max(self.lowest, other.lowest)
        let high: Int? =
            switch (self.highest, other.highest) {
            case (nil, nil): nil
            case (let a?, nil): a
            case (nil, let b?): b
            case (let a?, let b?): min(a, b)
            }
        return Versions(lowest: low, highest: high)
    }

    /// Whether every version of `within` is in this range.
    func covers(_ within: Versions) -> Bool {
        if within.isEmpty { return true }
        if self.isEmpty { return false }
        return self.lowest <= within.lowest && (self.highest ?? Int.max) >= (within.highest ?? Int.max)
    }

    /// A Swift condition on `version` that is true exactly for the versions of this range that
    /// lie in `context` (the versions the surrounding code can see); nil when always true.
    func condition(within context: Versions) -> String? {
        if self.covers(context) { return nil }
        let range = self.intersection(context)
        if range.isEmpty { return "false" }
        var parts: [String] = []
        if range.lowest > context.lowest { parts.append("version >= \(range.lowest)") }
        if let high = range.highest, high < (context.highest ?? Int.max) { parts.append("version <= \(high)") }
        return parts.isEmpty ? nil : parts.joined(separator: " && ")
    }

    var description: String {
        if self.isEmpty { return "none" }
        guard let highest = self.highest else { return "\(self.lowest)+" }
        return highest == self.lowest ? "\(self.lowest)" : "\(self.lowest)-\(highest)"
    }
}

struct SchemaError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One field of a message or struct, as the schema states it.
struct FieldSpec {
    var name: String
    var type: String
    var versions: Versions
    var nullableVersions: Versions
    var taggedVersions: Versions
    var tag: Int?
    var defaultValue: String?
    var about: String?
    var ignorable: Bool
    /// Inline struct fields, when the type is a struct defined here.
    var fields: [FieldSpec]?

    init(json: [String: Any]) throws {
        guard let name = json["name"] as? String, let type = json["type"] as? String else {
            throw SchemaError("field without name or type: \(json)")
        }
        self.name = name
        self.type = type.trimmingCharacters(in: .whitespaces)
        self.versions = try Versions(parsing: json["versions"] as? String ?? "none")
        self.nullableVersions = try (json["nullableVersions"] as? String).map(Versions.init(parsing:)) ?? .none
        self.taggedVersions = try (json["taggedVersions"] as? String).map(Versions.init(parsing:)) ?? .none
        self.tag = json["tag"] as? Int ?? (json["tag"] as? String).flatMap { Int($0) }
        if let value = json["default"] {
            self.defaultValue = "\(value)"
            if let bool = value as? Bool { self.defaultValue = bool ? "true" : "false" }
        }
        self.about = json["about"] as? String
        self.ignorable = json["ignorable"] as? Bool ?? false
        self.fields = try (json["fields"] as? [[String: Any]])?.map(FieldSpec.init(json:))
        if !self.taggedVersions.isEmpty && self.tag == nil {
            throw SchemaError("tagged field \(name) has no tag")
        }
    }

    var isArray: Bool { self.type.hasPrefix("[]") }
    var elementType: String { self.isArray ? String(self.type.dropFirst(2)) : self.type }
    var isTagged: Bool { !self.taggedVersions.isEmpty }
}

struct MessageSpec {
    var apiKey: Int?
    var kind: String
    var name: String
    var validVersions: Versions
    var flexibleVersions: Versions
    var fields: [FieldSpec]
    var commonStructs: [String: [FieldSpec]]
    var fileName: String

    init(contentsOf url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        let data = Data(Self.strippingComments(text).utf8)
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SchemaError("\(url.lastPathComponent): not a JSON object")
        }
        self.fileName = url.lastPathComponent
        self.apiKey = json["apiKey"] as? Int
        self.kind = json["type"] as? String ?? ""
        self.name = json["name"] as? String ?? ""
        self.validVersions = try Versions(parsing: json["validVersions"] as? String ?? "none")
        self.flexibleVersions = try Versions(parsing: json["flexibleVersions"] as? String ?? "none")
        self.fields = try (json["fields"] as? [[String: Any]] ?? []).map(FieldSpec.init(json:))
        var common: [String: [FieldSpec]] = [:]
        for entry in json["commonStructs"] as? [[String: Any]] ?? [] {
            guard let name = entry["name"] as? String else { throw SchemaError("common struct without a name") }
            common[name] = try (entry["fields"] as? [[String: Any]] ?? []).map(FieldSpec.init(json:))
        }
        self.commonStructs = common
    }

    /// Removes `//` comments outside string literals (the schemas are JSON with comments).
    static func strippingComments(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var inString = false
        var escaped = false
        var iterator = Array(text).makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if inString {
                output.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
                continue
            }
            if character == "\"" {
                inString = true
                output.append(character)
            } else if character == "/" {
                let next = iterator.next()
                if next == "/" {
                    while let skipped = iterator.next(), skipped != "\n" {}
                    output.append("\n")
                } else {
                    output.append(character)
                    pending = next
                }
            } else {
                output.append(character)
            }
        }
        return output
    }
}
