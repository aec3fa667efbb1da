/// Swift code for one message schema: a top-level type, and one nested type per struct.
struct MessageEmitter {
    let message: MessageSpec
    /// Name of the request's response type (requests only).
    let responseName: String?

    private var hasFlexible: Bool { !self.message.flexibleVersions.isEmpty }

    /// Types the generated code names; a struct of the same name would shadow them.
    static let reservedTypeNames: Set<String> = [
        "KafkaErrorCode", "ApiKey", "IsolationLevel", "ConfigSource", "ConfigResourceType", "ByteBuffer", "KafkaUUID",
        "TaggedField", "WireError",
        "String", "Int8", "Int16", "Int32", "Int64", "UInt16", "UInt32", "Double", "Bool",
    ]

    static let swiftKeywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "protocol", "public", "static", "struct", "subscript",
        "typealias", "var", "break", "case", "continue", "default", "defer", "do", "else", "fallthrough", "for",
        "guard", "if", "in", "repeat", "return", "switch", "where", "while", "as", "catch", "false", "is", "nil",
        "rethrows", "super", "self", "throw", "throws", "true", "try", "Type", "Self",
    ]

    // MARK: Types

    indirect enum FieldType {
        case primitive(String)
        /// A Swift type over a raw integer: `KafkaErrorCode` over int16 and so on.
        case mapped(swift: String, raw: String)
        case structure(String)
        case array(FieldType)
    }

    func fieldType(_ field: FieldSpec) throws -> FieldType {
        if field.isArray {
            var element = field
            element.type = field.elementType
            return .array(try self.fieldType(element))
        }
        switch field.type {
        case "int8", "int16", "int32", "int64", "uint16", "uint32", "float64", "bool", "string", "bytes",
            "records", "uuid":
            if field.type == "int16" && field.name.hasSuffix("ErrorCode") {
                return .mapped(swift: "KafkaErrorCode", raw: "Int16")
            }
            if field.type == "int16" && field.name == "ApiKey" { return .mapped(swift: "ApiKey", raw: "Int16") }
            if field.type == "int8" && field.name == "ConfigSource" {
                return .mapped(swift: "ConfigSource", raw: "Int8")
            }
            if field.type == "int8" && field.name == "ResourceType" && self.message.name.contains("Config") {
                return .mapped(swift: "ConfigResourceType", raw: "Int8")
            }
            if field.type == "int8" && field.name == "IsolationLevel" {
                return .mapped(swift: "IsolationLevel", raw: "Int8")
            }
            return .primitive(field.type)
        default:
            guard field.type.first?.isUppercase == true else { throw SchemaError("unknown type \(field.type)") }
            return .structure(field.type)
        }
    }

    static func swiftName(ofPrimitive type: String) -> String {
        switch type {
        case "int8": "Int8"
        case "int16": "Int16"
        case "int32": "Int32"
        case "int64": "Int64"
        case "uint16": "UInt16"
        case "uint32": "UInt32"
        case "float64": "Double"
        case "bool": "Bool"
        case "string": "String"
        case "bytes", "records": "ByteBuffer"
        case "uuid": "KafkaUUID"
        default: fatalError("not a primitive: \(type)")
        }
    }

    func swiftType(_ type: FieldType) -> String {
        switch type {
        case .primitive(let name): Self.swiftName(ofPrimitive: name)
        case .mapped(let swift, _): swift
        case .structure(let name): name
        case .array(let element): "[\(self.swiftType(element))]"
        }
    }

    func isOptional(_ field: FieldSpec) -> Bool {
        !field.nullableVersions.isEmpty || field.type == "records"
    }

    func declaredType(_ field: FieldSpec) throws -> String {
        let base = self.swiftType(try self.fieldType(field))
        return self.isOptional(field) ? base + "?" : base
    }

    /// The local a reader collects a field in.
    static func localName(_ schemaName: String) -> String {
        "_" + Self.propertyName(schemaName).replacingOccurrences(of: "`", with: "")
    }

    static func propertyName(_ schemaName: String) -> String {
        var name = schemaName
        // A leading acronym is lowered as a whole ("ISRNodes" would become "isrNodes").
        var prefix = ""
        while let first = name.first, first.isUppercase {
            let rest = name.dropFirst()
            if let next = rest.first, next.isLowercase, !prefix.isEmpty { break }
            prefix.append(Character(first.lowercased()))
            name = String(rest)
        }
        let result = prefix + name
        return Self.swiftKeywords.contains(result) ? "`\(result)`" : result
    }

    /// The value a field has when a version lacks it, or a reader gets none.
    func defaultValue(_ field: FieldSpec) throws -> String {
        let type = try self.fieldType(field)
        if let text = field.defaultValue, !(text.isEmpty && field.type != "string") {
            if text == "null" {
                guard self.isOptional(field) else { throw SchemaError("\(field.name): null default, not nullable") }
                return "nil"
            }
            switch type {
            case .primitive("string"): return Self.stringLiteral(text)
            case .primitive("bool"): return text
            case .primitive("int8"), .primitive("int16"), .primitive("int32"), .primitive("int64"),
                .primitive("uint16"), .primitive("uint32"), .primitive("float64"):
                return text
            case .mapped(_, _): return ".init(rawValue: \(text))"
            default: throw SchemaError("\(field.name): default \(text) for type \(field.type)")
            }
        }
        return try self.emptyValue(type, field: field)
    }

    func emptyValue(_ type: FieldType, field: FieldSpec) throws -> String {
        switch type {
        case .primitive("string"): return "\"\""
        case .primitive("bool"): return "false"
        case .primitive("bytes"): return "ByteBuffer()"
        case .primitive("records"): return "nil"
        case .primitive("uuid"): return ".zero"
        case .primitive: return "0"
        case .mapped("KafkaErrorCode", _): return ".none"
        case .mapped(_, _): return ".init(rawValue: 0)"
        case .structure(let name): return "\(name)()"
        case .array: return "[]"
        }
    }

    static func stringLiteral(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    // MARK: Reading and writing expressions

    func readExpression(_ type: FieldType, nullable: Bool, from buffer: String) -> String {
        switch type {
        case .primitive("bool"): return "try \(buffer).readKafkaBool()"
        case .primitive("float64"): return "try \(buffer).readKafkaFloat64()"
        case .primitive("uuid"): return "try \(buffer).readKafkaUUID()"
        case .primitive("string"):
            return nullable
                ? "try \(buffer).readKafkaNullableString(flexible: flexible)"
                : "try \(buffer).readKafkaString(flexible: flexible)"
        case .primitive("bytes"):
            return nullable
                ? "try \(buffer).readKafkaNullableBytes(flexible: flexible)"
                : "try \(buffer).readKafkaBytes(flexible: flexible)"
        case .primitive("records"): return "try \(buffer).readKafkaNullableBytes(flexible: flexible)"
        case .primitive(let name):
            return "try \(buffer).readKafkaInteger(as: \(Self.swiftName(ofPrimitive: name)).self)"
        case .mapped("KafkaErrorCode", _): return "try \(buffer).readKafkaErrorCode()"
        case .mapped(let swift, let raw): return "\(swift)(rawValue: try \(buffer).readKafkaInteger(as: \(raw).self))"
        case .structure(let name):
            let read = "try \(name)(from: &\(nullable ? "buffer" : buffer), version: version)"
            return nullable
                ? "try \(buffer).readKafkaNullableStruct { buffer throws(WireError) in \(read) }"
                : read
        case .array(let element):
            let elementRead = self.readExpression(element, nullable: false, from: "buffer")
            let method = nullable ? "readKafkaNullableArray" : "readKafkaArray"
            return "try \(buffer).\(method)(flexible: flexible) { buffer throws(WireError) in \(elementRead) }"
        }
    }

    func writeStatement(_ type: FieldType, nullable: Bool, value: String, to buffer: String) -> String {
        switch type {
        case .primitive("bool"): return "\(buffer).writeKafkaBool(\(value))"
        case .primitive("float64"): return "\(buffer).writeKafkaFloat64(\(value))"
        case .primitive("uuid"): return "\(buffer).writeKafkaUUID(\(value))"
        case .primitive("string"):
            return nullable
                ? "\(buffer).writeKafkaNullableString(\(value), flexible: flexible)"
                : "\(buffer).writeKafkaString(\(value), flexible: flexible)"
        case .primitive("bytes"):
            return nullable
                ? "\(buffer).writeKafkaNullableBytes(\(value), flexible: flexible)"
                : "\(buffer).writeKafkaBytes(\(value), flexible: flexible)"
        case .primitive("records"): return "\(buffer).writeKafkaNullableBytes(\(value), flexible: flexible)"
        case .primitive: return "\(buffer).writeInteger(\(value))"
        case .mapped("KafkaErrorCode", _): return "\(buffer).writeKafkaErrorCode(\(value))"
        case .mapped: return "\(buffer).writeInteger(\(value).rawValue)"
        case .structure:
            return nullable
                ? "\(buffer).writeKafkaNullableStruct(\(value)) { buffer, element in element.write(to: &buffer, version: version) }"
                : "\(value).write(to: &\(buffer), version: version)"
        case .array(let element):
            let elementWrite = self.writeStatement(element, nullable: false, value: "element", to: "buffer")
            let method = nullable ? "writeKafkaNullableArray" : "writeKafkaArray"
            return "\(buffer).\(method)(\(value), flexible: flexible) { buffer, element in \(elementWrite) }"
        }
    }

    // MARK: Structs

    struct StructSpec {
        var name: String
        var fields: [FieldSpec]
        var context: Versions
    }

    /// Every struct of the message (inline and common), each with the versions it can occur in.
    func collectStructs() throws -> [StructSpec] {
        var found: [String: StructSpec] = [:]
        var order: [String] = []
        func visit(_ fields: [FieldSpec], context: Versions) throws {
            for field in fields {
                guard case .structure(let name) = try Self.baseType(self.fieldType(field)) else { continue }
                let fieldContext = field.versions.intersection(context)
                if let inline = field.fields {
                    if found[name] != nil { throw SchemaError("\(self.message.name): struct \(name) defined twice") }
                    found[name] = StructSpec(name: name, fields: inline, context: fieldContext)
                    order.append(name)
                    try visit(inline, context: fieldContext)
                } else if let common = self.message.commonStructs[name] {
                    if found[name] == nil {
                        found[name] = StructSpec(name: name, fields: common, context: self.message.validVersions)
                        order.append(name)
                        try visit(common, context: self.message.validVersions)
                    }
                } else {
                    throw SchemaError("\(self.message.name): struct \(name) has no definition")
                }
            }
        }
        try visit(self.message.fields, context: self.message.validVersions)
        for name in order where Self.reservedTypeNames.contains(name) || name == self.message.name {
            throw SchemaError("\(self.message.name): struct \(name) would shadow a type the code uses")
        }
        return order.map { found[$0]! }
    }

    static func baseType(_ type: FieldType) -> FieldType {
        if case .array(let element) = type { return Self.baseType(element) }
        return type
    }

    /// Whether a struct (transitively) holds error codes, so responses can report them.
    func holdsErrorCodes(_ fields: [FieldSpec], structs: [String: StructSpec]) throws -> Bool {
        for field in fields {
            switch Self.baseType(try self.fieldType(field)) {
            case .mapped("KafkaErrorCode", _): return true
            case .structure(let name):
                if let spec = structs[name], try self.holdsErrorCodes(spec.fields, structs: structs) { return true }
            default: continue
            }
        }
        return false
    }

    // MARK: Emission

    func emit() throws -> String {
        let message = self.message
        let structs = try self.collectStructs()
        let structsByName = Dictionary(uniqueKeysWithValues: structs.map { ($0.name, $0) })
        var out = CodeWriter()
        out.line("// Generated by tools/codegen from Kafka's \(message.fileName) (versions \(message.validVersions),")
        out.line(
            "// flexible \(message.flexibleVersions)). Do not edit: change the generator and run tools/generate-codecs.sh."
        )
        out.line("")
        out.line("import NIOCore")
        out.line("")
        let conformance =
            switch message.kind {
            case "request": "KafkaRequestMessage"
            case "response": "KafkaResponseMessage"
            default: "ConsumerProtocolPayload"
            }
        out.line("public struct \(message.name): \(conformance) {")
        try out.indent { out in
            if let responseName = self.responseName { out.line("public typealias Response = \(responseName)") }
            if let apiKey = message.apiKey, message.kind != "data" {
                let constant = MessageEmitter.propertyName(String(message.name.dropLast(message.kind.count)))
                out.line("public static let apiKey = ApiKey.\(constant) // \(apiKey)")
            }
            let highest = message.validVersions.highest ?? message.validVersions.lowest
            out.line("public static let versions: ClosedRange<Int16> = \(message.validVersions.lowest)...\(highest)")
            for spec in structs {
                out.line("")
                try self.emitStruct(
                    name: spec.name,
                    fields: spec.fields,
                    context: spec.context,
                    isTopLevel: false,
                    structs: structsByName,
                    into: &out
                )
            }
            out.line("")
            try self.emitBody(
                fields: message.fields,
                context: message.validVersions,
                isTopLevel: true,
                typeName: message.name,
                structs: structsByName,
                into: &out
            )
        }
        out.line("}")
        return out.text
    }

    func emitStruct(
        name: String,
        fields: [FieldSpec],
        context: Versions,
        isTopLevel: Bool,
        structs: [String: StructSpec],
        into out: inout CodeWriter
    ) throws {
        out.line("public struct \(name): Hashable, Sendable {")
        try out.indent { out in
            try self.emitBody(
                fields: fields,
                context: context,
                isTopLevel: false,
                typeName: name,
                structs: structs,
                into: &out
            )
        }
        out.line("}")
    }

    func emitBody(
        fields: [FieldSpec],
        context: Versions,
        isTopLevel: Bool,
        typeName: String,
        structs: [String: StructSpec],
        into out: inout CodeWriter
    ) throws {
        let access = isTopLevel ? "public " : ""
        let fields = fields.filter { !$0.versions.intersection(context).isEmpty }
        // Properties.
        for field in fields {
            if let about = field.about, !about.isEmpty {
                for line in Self.wrap(about, width: 100) { out.line("/// \(line)") }
            }
            let versionNote = "Versions \(field.versions)"
            let nullableNote = field.nullableVersions.isEmpty ? "" : ", nullable \(field.nullableVersions)"
            let taggedNote = field.isTagged ? ", tagged \(field.taggedVersions) (tag \(field.tag!))" : ""
            out.line("/// \(versionNote)\(nullableNote)\(taggedNote).")
            out.line("public var \(Self.propertyName(field.name)): \(try self.declaredType(field))")
        }
        if self.hasFlexible {
            out.line("/// Tagged fields this codec does not know, kept so the message round-trips.")
            out.line("public var unknownTaggedFields: [TaggedField]")
        }
        // Memberwise initializer with every field defaulted.
        out.line("")
        var parameters: [String] = []
        for field in fields {
            parameters.append(
                "\(Self.propertyName(field.name)): \(try self.declaredType(field)) = \(try self.defaultValue(field))"
            )
        }
        if self.hasFlexible { parameters.append("unknownTaggedFields: [TaggedField] = []") }
        if parameters.isEmpty {
            out.line("public init() {}")
        } else {
            out.line("public init(")
            out.indent { out in
                for (index, parameter) in parameters.enumerated() {
                    out.line(parameter + (index == parameters.count - 1 ? "" : ","))
                }
            }
            out.line(") {")
            out.indent { out in
                for field in fields {
                    let name = Self.propertyName(field.name)
                    out.line("self.\(name.replacingOccurrences(of: "`", with: "")) = \(name)")
                }
                if self.hasFlexible { out.line("self.unknownTaggedFields = unknownTaggedFields") }
            }
            out.line("}")
        }
        let flexibleCondition = self.hasFlexible ? "version >= \(self.message.flexibleVersions.lowest)" : nil
        let regular = fields.filter { !$0.isTagged }
        let tagged = fields.filter { $0.isTagged }.sorted { $0.tag! < $1.tag! }

        // Reader.
        out.line("")
        // Nested readers and writers are inlined into their parent's loop, as hand-written code
        // would be: left out of line, every fixed-width field pays a call and an access check.
        if !isTopLevel { out.line("@inline(__always)") }
        out.line("\(access)init(from buffer: inout ByteBuffer, version: Int16) throws(WireError) {")
        try out.indent { out in
            // Fields are read into locals and the struct is built once at the end: assigning into
            // a default-initialised `self` field by field costs twice the time on the data path.
            for field in fields {
                out.line(
                    "var \(Self.localName(field.name)): \(try self.declaredType(field)) = \(try self.defaultValue(field))"
                )
            }
            if self.hasFlexible { out.line("var _unknownTaggedFields: [TaggedField] = []") }
            if let flexibleCondition {
                out.line("let flexible = \(flexibleCondition)")
            } else if try regular.contains(where: { try self.needsFlexible(self.fieldType($0)) }) {
                out.line("let flexible = false")
            }
            for field in regular {
                try self.emitRead(field, context: context, into: &out)
            }
            if self.hasFlexible && tagged.isEmpty {
                out.line("if flexible { _unknownTaggedFields = try buffer.readKafkaTaggedFields() }")
            } else if self.hasFlexible {
                out.line("if flexible {")
                try out.indent { out in
                    out.line("var previousTag: UInt32? = nil")
                    out.line("for _ in 0..<(try buffer.readKafkaTaggedFieldCount()) {")
                    try out.indent { out in
                        if tagged.isEmpty {
                            out.line("let (tag, field) = try buffer.readKafkaTaggedField(after: &previousTag)")
                            out.line("_unknownTaggedFields.append(TaggedField(tag: tag, data: field))")
                            return
                        }
                        out.line("var (tag, field) = try buffer.readKafkaTaggedField(after: &previousTag)")
                        out.line("switch tag {")
                        for field in tagged {
                            let fieldContext = field.taggedVersions.intersection(context)
                            let condition = field.taggedVersions.condition(within: context)
                            out.line("case \(field.tag!)\(condition.map { " where \($0)" } ?? ""):")
                            try out.indent { out in
                                let nullable = self.nullableCondition(field, fieldContext: fieldContext)
                                let name = Self.propertyName(field.name)
                                try self.emitAssignment(
                                    name: name,
                                    type: self.fieldType(field),
                                    nullable: nullable,
                                    from: "field",
                                    into: &out
                                )
                            }
                        }
                        out.line("default:")
                        out.indent { out in out.line("_unknownTaggedFields.append(TaggedField(tag: tag, data: field))")
                        }
                        out.line("}")
                    }
                    out.line("}")
                }
                out.line("}")
            }
            var arguments = fields.map { "\(Self.propertyName($0.name)): \(Self.localName($0.name))" }
            if self.hasFlexible { arguments.append("unknownTaggedFields: _unknownTaggedFields") }
            out.line("self.init(\(arguments.joined(separator: ", ")))")
        }
        out.line("}")

        // Writer.
        out.line("")
        if !isTopLevel { out.line("@inline(__always)") }
        out.line("\(access)func write(to buffer: inout ByteBuffer, version: Int16) {")
        try out.indent { out in
            if let flexibleCondition {
                out.line("let flexible = \(flexibleCondition)")
            } else if try regular.contains(where: { try self.needsFlexible(self.fieldType($0)) }) {
                out.line("let flexible = false")
            }
            for field in regular {
                try self.emitWrite(field, context: context, into: &out)
            }
            if self.hasFlexible {
                out.line("if flexible {")
                try out.indent { out in
                    if tagged.isEmpty {
                        out.line("buffer.writeKafkaTaggedFields([], unknown: self.unknownTaggedFields)")
                    } else {
                        out.line("var taggedFields: [TaggedField] = []")
                        for field in tagged {
                            let fieldContext = field.taggedVersions.intersection(context)
                            let name = Self.propertyName(field.name)
                            var conditions = [String]()
                            if let versionCondition = field.taggedVersions.condition(within: context) {
                                conditions.append(versionCondition)
                            }
                            conditions.append("self.\(name) != \(try self.defaultValue(field))")
                            out.line("if \(conditions.joined(separator: " && ")) {")
                            try out.indent { out in
                                out.line("taggedFields.append(")
                                try out.indent { out in
                                    out.line("TaggedField(tag: \(field.tag!)) { buffer in")
                                    try out.indent { out in
                                        try self.emitWriteValue(
                                            field,
                                            fieldContext: fieldContext,
                                            value: "self.\(name)",
                                            into: &out
                                        )
                                    }
                                    out.line("}")
                                }
                                out.line(")")
                            }
                            out.line("}")
                        }
                        out.line("buffer.writeKafkaTaggedFields(taggedFields, unknown: self.unknownTaggedFields)")
                    }
                }
                out.line("}")
            }
        }
        out.line("}")

        // Error codes (responses), each with the name of the nearest enclosing resource (topic,
        // group, coordinator key) for the broker's error log.
        if self.message.kind == "response" {
            let holds = try self.holdsErrorCodes(fields, structs: structs)
            if isTopLevel || holds {
                let resourceField = fields.first { Self.resourceFieldNames.contains($0.name) && $0.type == "string" }
                out.line("")
                if isTopLevel {
                    out.line("\(access)func forEachErrorCode(_ body: (KafkaErrorCode, _ resource: String?) -> Void) {")
                } else {
                    out.line(
                        "\(access)func forEachErrorCode(in resource: String?, _ body: (KafkaErrorCode, _ resource: String?) -> Void) {"
                    )
                }
                try out.indent { out in
                    if holds, let resourceField {
                        let name = Self.propertyName(resourceField.name)
                        let fallback = isTopLevel ? "" : " ?? resource"
                        out.line(
                            self.isOptional(resourceField)
                                ? "let resource: String? = self.\(name)\(fallback)"
                                : "let resource: String? = self.\(name)"
                        )
                    } else if holds && isTopLevel {
                        out.line("let resource: String? = nil")
                    }
                    for field in fields {
                        let name = Self.propertyName(field.name)
                        let type = try self.fieldType(field)
                        let optional = self.isOptional(field)
                        switch type {
                        case .mapped("KafkaErrorCode", _):
                            out.line("body(self.\(name), resource)")
                        case .structure(let structName):
                            guard let spec = structs[structName],
                                try self.holdsErrorCodes(spec.fields, structs: structs)
                            else { continue }
                            out.line(
                                optional
                                    ? "self.\(name)?.forEachErrorCode(in: resource, body)"
                                    : "self.\(name).forEachErrorCode(in: resource, body)"
                            )
                        case .array(.structure(let structName)):
                            guard let spec = structs[structName],
                                try self.holdsErrorCodes(spec.fields, structs: structs)
                            else { continue }
                            out.line(
                                "for element in self.\(name)\(optional ? " ?? []" : "") { element.forEachErrorCode(in: resource, body) }"
                            )
                        case .array(.mapped("KafkaErrorCode", _)):
                            out.line("for code in self.\(name)\(optional ? " ?? []" : "") { body(code, resource) }")
                        default:
                            continue
                        }
                    }
                    if !holds { out.line("_ = body") }
                }
                out.line("}")
            }
        }
    }

    /// String fields that name what an error code in the same struct is about.
    static let resourceFieldNames: Set<String> = [
        "Name", "Topic", "TopicName", "GroupId", "Key", "ResourceName", "TransactionalId",
    ]

    func needsFlexible(_ type: FieldType) -> Bool {
        switch type {
        case .primitive("string"), .primitive("bytes"), .primitive("records"), .array: true
        default: false
        }
    }

    func nullableCondition(_ field: FieldSpec, fieldContext: Versions) -> String? {
        if field.type == "records" { return "true" }
        if field.nullableVersions.intersection(fieldContext).isEmpty { return nil }
        return field.nullableVersions.condition(within: fieldContext) ?? "true"
    }

    func emitAssignment(
        name: String,
        type: FieldType,
        nullable: String?,
        from buffer: String,
        into out: inout CodeWriter
    ) throws {
        let target = "_" + name.replacingOccurrences(of: "`", with: "")
        switch nullable {
        case nil:
            out.line("\(target) = \(self.readExpression(type, nullable: false, from: buffer))")
        case "true":
            out.line("\(target) = \(self.readExpression(type, nullable: true, from: buffer))")
        case let condition?:
            out.line("if \(condition) {")
            out.indent { out in out.line("\(target) = \(self.readExpression(type, nullable: true, from: buffer))") }
            out.line("} else {")
            out.indent { out in out.line("\(target) = \(self.readExpression(type, nullable: false, from: buffer))") }
            out.line("}")
        }
    }

    func emitRead(_ field: FieldSpec, context: Versions, into out: inout CodeWriter) throws {
        let fieldContext = field.versions.intersection(context)
        let condition = field.versions.condition(within: context)
        let nullable = self.nullableCondition(field, fieldContext: fieldContext)
        let name = Self.propertyName(field.name)
        if let condition {
            out.line("if \(condition) {")
            try out.indent { out in
                try self.emitAssignment(
                    name: name,
                    type: self.fieldType(field),
                    nullable: nullable,
                    from: "buffer",
                    into: &out
                )
            }
            out.line("}")
        } else {
            try self.emitAssignment(
                name: name,
                type: self.fieldType(field),
                nullable: nullable,
                from: "buffer",
                into: &out
            )
        }
    }

    func emitWriteValue(_ field: FieldSpec, fieldContext: Versions, value: String, into out: inout CodeWriter) throws {
        let type = try self.fieldType(field)
        let nullable = self.nullableCondition(field, fieldContext: fieldContext)
        let optional = self.isOptional(field)
        let orEmpty = optional ? " ?? \(try self.emptyValue(type, field: field))" : ""
        switch nullable {
        case nil:
            let unwrapped = optional ? "(\(value)\(orEmpty))" : value
            out.line(self.writeStatement(type, nullable: false, value: unwrapped, to: "buffer"))
        case "true":
            out.line(self.writeStatement(type, nullable: true, value: value, to: "buffer"))
        case let condition?:
            out.line("if \(condition) {")
            out.indent { out in out.line(self.writeStatement(type, nullable: true, value: value, to: "buffer")) }
            out.line("} else {")
            out.indent { out in
                out.line(self.writeStatement(type, nullable: false, value: "(\(value)\(orEmpty))", to: "buffer"))
            }
            out.line("}")
        }
    }

    func emitWrite(_ field: FieldSpec, context: Versions, into out: inout CodeWriter) throws {
        let fieldContext = field.versions.intersection(context)
        let condition = field.versions.condition(within: context)
        let name = Self.propertyName(field.name)
        if let condition {
            out.line("if \(condition) {")
            try out.indent { out in
                try self.emitWriteValue(field, fieldContext: fieldContext, value: "self.\(name)", into: &out)
            }
            out.line("}")
        } else {
            try self.emitWriteValue(field, fieldContext: fieldContext, value: "self.\(name)", into: &out)
        }
    }

    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count > width {
                lines.append(current)
                current = String(word)
            } else {
                current += " " + word
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}

/// Indented lines of Swift.
struct CodeWriter {
    private(set) var text = ""
    private var depth = 0

    mutating func line(_ content: String) {
        if content.isEmpty {
            self.text += "\n"
        } else {
            self.text += String(repeating: "    ", count: self.depth) + content + "\n"
        }
    }

    mutating func indent(_ body: (inout CodeWriter) throws -> Void) rethrows {
        self.depth += 1
        try body(&self)
        self.depth -= 1
    }
}
