/// kcat's command line, parsed with kcat 1.7.1's semantics (`kcat.c:argparse`).
public struct KcatOptions: Sendable, Equatable {
    /// kcat's getopt string (master; `-M` is accepted and rejected, as 1.7.1 lacks it).
    public static let getoptString = ":PCG:LQM:t:p:b:z:o:eED:K:k:H:Od:qvF:X:c:Tuf:ZlVhs:r:Jm:U"

    public enum Mode: Character, Sendable, Equatable {
        case produce = "P", consume = "C", group = "G", list = "L", query = "Q"
    }

    /// Where a consumer starts (`-o`).
    public enum StartOffset: Sendable, Equatable {
        case beginning, end, stored
        case absolute(Int64)
        /// `-o -N`: N before the end of each partition.
        case tail(Int64)
        /// `-o s@ms`: the first offset whose timestamp is ≥ ms.
        case timestamp(Int64)
    }

    public struct Query: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var timestamp: Int64
    }

    public var mode: Mode?
    public var group: String?
    public var topic: String?
    public var queries: [Query] = []
    /// `-p`; nil when not given. `-1` (kcat's "random partitioner") stays -1.
    public var partition: Int32?
    public var brokers: String?
    public var compression: String?
    public var startOffset: StartOffset?
    /// `-o e@ms`: stop each partition at the first message with a timestamp ≥ ms.
    public var stopTimestamp: Int64?
    public var exitAtEnd = false
    public var exitOnError = true
    public var format: String?
    public var json = false
    /// Tern's `--base64`: binary-safe `-J` (out and in).
    public var base64 = false
    public var keyPack: PackFormat?
    public var valuePack: PackFormat?
    public var delimiter = "\n"
    public var keyDelimiter: String?
    public var fixedKey: String?
    public var headers: [CLIHeader] = []
    public var lineMode = false
    public var printOffset = false
    /// `-c`; nil, 0 or negative = unlimited (as in kcat).
    public var count: Int64?
    /// `-m`, seconds.
    public var metadataTimeout: Int64 = 5
    public var nullAsString = false
    public var debug: String?
    public var verbosity = 1
    public var tee = false
    public var unbuffered = false
    /// `-X` and config-file properties in the order they were set (later wins).
    public var properties: [(String, String)] = []
    public var dumpConfig = false
    public var listConfig = false
    public var version = false
    public var help = false
    public var operands: [String] = []
    /// Info lines kcat prints on stderr while parsing (config files read, auto-selected mode).
    public var notices: [String] = []

    public init() {}

    public static func == (lhs: KcatOptions, rhs: KcatOptions) -> Bool {
        lhs.mode == rhs.mode && lhs.group == rhs.group && lhs.topic == rhs.topic && lhs.queries == rhs.queries
            && lhs.partition == rhs.partition && lhs.brokers == rhs.brokers && lhs.compression == rhs.compression
            && lhs.startOffset == rhs.startOffset && lhs.stopTimestamp == rhs.stopTimestamp
            && lhs.exitAtEnd == rhs.exitAtEnd && lhs.format == rhs.format && lhs.json == rhs.json
            && lhs.delimiter == rhs.delimiter && lhs.keyDelimiter == rhs.keyDelimiter && lhs.operands == rhs.operands
            && lhs.properties.map { "\($0)=\($1)" } == rhs.properties.map { "\($0)=\($1)" }
    }

    /// The value of a property (last setting wins).
    public func property(_ name: String) -> String? {
        self.properties.last { $0.0 == name || $0.0 == "topic." + name }?.1
    }

    /// What the parser needs from the process, injectable for tests.
    public struct Environment: Sendable {
        public var variables: [String: String]
        public var stdinIsTerminal: Bool
        public var readFile: @Sendable (String) -> String?

        public init(
            variables: [String: String],
            stdinIsTerminal: Bool,
            readFile: @escaping @Sendable (String) -> String?
        ) {
            self.variables = variables
            self.stdinIsTerminal = stdinIsTerminal
            self.readFile = readFile
        }
    }

    /// Searched in `$HOME/.config` when neither `-F` nor `KCAT_CONFIG` names a file; the first
    /// that exists is read.
    public static let defaultConfigFiles = ["tern.conf", "kcat.conf", "kafkacat.conf"]

    /// Long options Tern adds; they are taken out before getopt sees the rest.
    public static let longOptions: Set<String> = ["--base64", "--help", "--version"]

    /// Parses arguments (without the program name) and checks them like kcat does. Stops early for
    /// `-h`, `-V`, `-X list` and `-X dump` (the flags say which).
    public static func parse(_ arguments: [String], environment: Environment) throws(CLIError) -> KcatOptions {
        var options = KcatOptions()
        var arguments = arguments
        // Docker images run `kcat kcat …`; kcat drops a leading "kcat"/"kafkacat".
        if let first = arguments.first, first == "kcat" || first == "kafkacat" { arguments.removeFirst() }
        var rest: [String] = []
        var sawDoubleDash = false
        let getopt = Getopt(Self.getoptString)
        for (index, word) in arguments.enumerated() {
            if getopt.isOptionArgument(arguments, at: index) {
                rest.append(word)
                continue
            }
            if !sawDoubleDash, word == "--" { sawDoubleDash = true }
            if !sawDoubleDash, Self.longOptions.contains(word) {
                switch word {
                case "--base64": options.base64 = true
                case "--help": options.help = true
                default: options.version = true
                }
                continue
            }
            if !sawDoubleDash, word.hasPrefix("--"), word.count > 2 {
                throw CLIError("unknown option \(word)")
            }
            rest.append(word)
        }
        if options.help || options.version { return options }

        let parsed: (options: [Getopt.Option], operands: [String])
        do {
            parsed = try getopt.parse(rest)
        } catch {
            switch error {
            case .unknownOption(let c): throw CLIError("unknown option -\(c) (see tern -h)")
            case .missingArgument(let c): throw CLIError("option -\(c) requires an argument (see tern -h)")
            }
        }
        options.operands = parsed.operands
        var configFilesRead = 0
        var noConfigSearch = false

        for option in parsed.options {
            let argument = option.argument ?? ""
            switch option.letter {
            case "P", "C", "L", "Q": options.mode = Mode(rawValue: option.letter)
            case "G":
                options.mode = .group
                options.group = argument
            case "M": throw CLIError("-M (mock cluster) is not supported; start a local ternd instead")
            case "t":
                if options.mode == .query {
                    options.queries.append(try parseQuery(argument))
                } else {
                    options.topic = argument
                }
            case "p":
                guard let p = Int32(argument), p >= -1 else { throw CLIError("Invalid partition: \(argument)") }
                options.partition = p
            case "b": options.brokers = argument
            case "z":
                guard ["none", "gzip", "snappy", "lz4", "zstd"].contains(argument) else {
                    throw CLIError(
                        "Invalid value \"\(argument)\" for configuration property \"compression.codec\" (none, gzip, snappy, lz4, zstd)"
                    )
                }
                options.compression = argument
            case "o": try parseOffset(argument, into: &options)
            case "e": options.exitAtEnd = true
            case "E": options.exitOnError = false
            case "f": options.format = argument
            case "J": options.json = true
            case "s": try parsePack(argument, into: &options)
            case "r": throw CLIError("This build of tern lacks Avro/Schema-Registry support")
            case "D": options.delimiter = argument
            case "K": options.keyDelimiter = argument
            case "k": options.fixedKey = argument
            case "H": options.headers.append(try parseHeader(argument))
            case "l": options.lineMode = true
            case "O": options.printOffset = true
            case "c": options.count = try parseInteger(argument, "-c")
            case "m":
                let m = try parseInteger(argument, "-m")
                guard m > 0 else { throw CLIError("Invalid -m timeout: \(argument) (seconds, > 0)") }
                options.metadataTimeout = m
            case "Z": options.nullAsString = true
            case "d":
                try ClientProperties.validate(name: "debug", value: argument)
                options.debug = argument
            case "q": options.verbosity = 0
            case "v": options.verbosity += 1
            case "T": options.tee = true
            case "u": options.unbuffered = true
            case "F":
                noConfigSearch = true
                if argument == "-" || argument == "none" { break }
                try readConfigFile(argument, fatal: true, into: &options, environment: environment)
                configFilesRead += 1
            case "X":
                if argument == "list" || argument == "help" {
                    options.listConfig = true
                    return options
                }
                if argument == "dump" {
                    options.dumpConfig = true
                    continue
                }
                guard let eq = argument.firstIndex(of: "=") else {
                    throw CLIError(
                        "Expected -X property=value, not \(argument), use -X list to display available properties"
                    )
                }
                try options.set(String(argument[..<eq]), String(argument[argument.index(after: eq)...]))
            case "U": throw CLIError("-U (kcat's unit tests) is not supported")
            case "V":
                options.version = true
                return options
            case "h":
                options.help = true
                return options
            default: throw CLIError("unknown option -\(option.letter) (see tern -h)")
            }
        }

        if configFilesRead == 0 {
            if let path = environment.variables["KCAT_CONFIG"], !path.isEmpty {
                noConfigSearch = true
                try readConfigFile(path, fatal: true, into: &options, environment: environment)
            } else if let path = environment.variables["KAFKACAT_CONFIG"], !path.isEmpty {
                options.notices.append("KAFKA_CONFIG is deprecated!")
                noConfigSearch = true
                try readConfigFile(path, fatal: true, into: &options, environment: environment)
            }
        }
        // The first of ~/.config/tern.conf, kcat.conf and kafkacat.conf that exists (docs/cli.md).
        if !noConfigSearch, let home = environment.variables["HOME"], !home.isEmpty {
            for name in Self.defaultConfigFiles {
                if try readConfigFile("\(home)/.config/\(name)", fatal: false, into: &options, environment: environment)
                {
                    if name == "kafkacat.conf" {
                        options.notices.append("Configuration filename kafkacat.conf is deprecated!")
                    }
                    break
                }
            }
        }
        if options.bootstrapServers == nil, let brokers = environment.variables["TERN_BROKERS"], !brokers.isEmpty {
            options.brokers = brokers
        }
        if options.dumpConfig { return options }
        try options.validate(stdinIsTerminal: environment.stdinIsTerminal)
        return options
    }

    /// Records a property, checking its name against the properties Tern understands.
    public mutating func set(_ name: String, _ value: String) throws(CLIError) {
        try ClientProperties.validate(name: name, value: value)
        self.properties.append((name, value))
    }

    /// The broker list from `-b`, else from `bootstrap.servers`/`metadata.broker.list`.
    public var bootstrapServers: String? {
        self.brokers ?? self.property("bootstrap.servers") ?? self.property("metadata.broker.list")
    }

    mutating func validate(stdinIsTerminal: Bool) throws(CLIError) {
        guard self.bootstrapServers != nil else { throw CLIError("-b <broker,..> missing") }
        if self.mode == nil {
            self.mode = stdinIsTerminal ? .consume : .produce
            if self.verbosity >= 1 {
                self.notices.append(
                    "Auto-selecting \(self.mode == .consume ? "Consumer" : "Producer") mode (use -P or -C to override)"
                )
            }
        }
        let mode = self.mode!
        if ![.group, .list, .query].contains(mode), self.topic == nil { throw CLIError("-t <topic> missing") }
        if mode == .query, self.queries.isEmpty {
            throw CLIError("-t <topic>:<partition>:<offset_or_timestamp> missing")
        }
        if self.keyPack != nil || self.valuePack != nil, mode != .group, mode != .consume {
            throw CLIError("-s serdes only available in the consumer")
        }
        if mode == .produce, try Escapes.delimiter(self.delimiter).isEmpty {
            throw CLIError("Message delimiter -D must not be empty when producing")
        }
        if !self.operands.isEmpty {
            if mode != .produce, mode != .group {
                throw CLIError("file/topic list only allowed in producer(-P)/kafkaconsumer(-G) mode")
            }
            if self.lineMode, self.operands.count > 1 { throw CLIError("Only one file allowed for line mode (-l)") }
        }
        if mode == .group {
            if case .timestamp = self.startOffset { throw CLIError("-o ..@ timestamps can't be used with -G mode") }
            if self.stopTimestamp != nil { throw CLIError("-o ..@ timestamps can't be used with -G mode") }
            if self.operands.isEmpty { throw CLIError("-G requires one or more topics to subscribe to") }
        }
        if let format = self.format { _ = try OutputFormat.parse(format) }
    }

    static func parseInteger(_ text: String, _ option: String) throws(CLIError) -> Int64 {
        guard let value = Int64(text) else { throw CLIError("Invalid \(option) value: \(text)") }
        return value
    }

    static func parseQuery(_ text: String) throws(CLIError) -> Query {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        // The topic is everything before the last two fields (kcat splits at the first two colons,
        // topic names cannot hold a colon anyway).
        guard parts.count == 3, !parts[0].isEmpty, let partition = Int32(parts[1]), let ts = Int64(parts[2]) else {
            throw CLIError("-t: expected \"topic:partition:offset_or_timestamp\"")
        }
        return Query(topic: String(parts[0]), partition: partition, timestamp: ts)
    }

    static func parseOffset(_ text: String, into options: inout KcatOptions) throws(CLIError) {
        switch text {
        case "end": options.startOffset = .end
        case "beginning": options.startOffset = .beginning
        case "stored": options.startOffset = .stored
        default:
            if text.hasPrefix("s@") {
                options.startOffset = .timestamp(try parseInteger(String(text.dropFirst(2)), "-o s@"))
            } else if text.hasPrefix("e@") {
                options.stopTimestamp = try parseInteger(String(text.dropFirst(2)), "-o e@")
            } else {
                guard let n = Int64(text) else {
                    throw CLIError("Invalid offset: \(text) (beginning, end, stored, N, -N, s@ms or e@ms)")
                }
                options.startOffset = n < 0 ? .tail(-n) : .absolute(n)
            }
        }
    }

    static func parsePack(_ text: String, into options: inout KcatOptions) throws(CLIError) {
        var field: String?
        var rest = text
        if text.hasPrefix("key=") {
            field = "key"
            rest = String(text.dropFirst(4))
        } else if text.hasPrefix("value=") {
            field = "value"
            rest = String(text.dropFirst(6))
        }
        if rest == "avro" { throw CLIError("This build of tern lacks Avro/Schema-Registry support") }
        if field == nil || field == "key" { options.keyPack = try PackFormat(rest, what: "key") }
        if field == nil || field == "value" { options.valuePack = try PackFormat(rest, what: "value") }
    }

    static func parseHeader(_ text: String) throws(CLIError) -> CLIHeader {
        guard !text.isEmpty, !text.hasPrefix("=") else { throw CLIError("Expected -H \"name=value..\" or -H \"name\"") }
        guard let eq = text.firstIndex(of: "=") else { return CLIHeader(key: text, value: nil) }
        return CLIHeader(key: String(text[..<eq]), value: Array(text[text.index(after: eq)...].utf8))
    }

    /// kcat's config file format: `property=value` lines, `#` comments, blank lines, Java-style
    /// `\:`/`\=` escapes. Returns false when a non-fatal file cannot be read.
    @discardableResult
    static func readConfigFile(
        _ path: String,
        fatal: Bool,
        into options: inout KcatOptions,
        environment: Environment
    ) throws(CLIError) -> Bool {
        guard let text = environment.readFile(path) else {
            if fatal { throw CLIError("Failed to open \(path): No such file or directory") }
            return false
        }
        if options.verbosity >= (fatal ? 1 : 3) { options.notices.append("Reading configuration from file \(path)") }
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: " \t\r\u{0B}\u{0C}")
            if line.isEmpty || line.hasPrefix("#") { continue }
            line = line.replacing("\\:", with: ":").replacing("\\=", with: "=")
            guard let eq = line.firstIndex(of: "="), eq != line.startIndex else {
                throw CLIError("\(path):\(number + 1): expected property=value")
            }
            let name = String(line[..<eq])
            let value = String(line[line.index(after: eq)...])
            if name == "ssl.endpoint.identification.algorithm" { continue }
            do {
                try options.set(name, value)
            } catch {
                throw CLIError("\(path):\(number + 1): \(error.message)")
            }
        }
        return true
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = self
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
