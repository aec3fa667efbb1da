import Testing

@testable import TernCLICore

private func env(
    tty: Bool = true,
    variables: [String: String] = [:],
    files: [String: String] = [:]
) -> KcatOptions.Environment {
    KcatOptions.Environment(variables: variables, stdinIsTerminal: tty, readFile: { files[$0] })
}

@Suite struct GetoptTests {
    let getopt = Getopt(KcatOptions.getoptString)

    @Test func clusteredFlagsAndAttachedArguments() throws {
        let (options, operands) = try getopt.parse(["-Cep0", "-b", "h:1", "-tfoo"])
        #expect(options.map(\.letter) == ["C", "e", "p", "b", "t"])
        #expect(options[2].argument == "0")
        #expect(options[3].argument == "h:1")
        #expect(options[4].argument == "foo")
        #expect(operands.isEmpty)
    }

    @Test func operandsArePermutedLikeGlibc() throws {
        let (options, operands) = try getopt.parse(["-G", "grp", "t1", "-e", "t2", "--", "-x"])
        #expect(options.map(\.letter) == ["G", "e"])
        #expect(operands == ["t1", "t2", "-x"])
    }

    @Test func negativeNumberIsAnArgument() throws {
        let (options, _) = try getopt.parse(["-o", "-5", "-p", "-1"])
        #expect(options.map(\.argument) == ["-5", "-1"])
    }

    @Test func errors() {
        #expect(throws: Getopt.Failure.unknownOption("y")) { try getopt.parse(["-y"]) }
        #expect(throws: Getopt.Failure.missingArgument("t")) { try getopt.parse(["-C", "-t"]) }
        #expect(throws: Getopt.Failure.unknownOption(":")) { try getopt.parse(["-:"]) }
    }
}

@Suite struct KcatOptionsTests {
    @Test func modeAutoDetectionFollowsStdin() throws {
        let c = try KcatOptions.parse(["-b", "h", "-t", "x"], environment: env(tty: true))
        #expect(c.mode == .consume)
        #expect(c.notices == ["Auto-selecting Consumer mode (use -P or -C to override)"])
        let p = try KcatOptions.parse(["-b", "h", "-t", "x"], environment: env(tty: false))
        #expect(p.mode == .produce)
        let quiet = try KcatOptions.parse(["-q", "-b", "h", "-t", "x"], environment: env(tty: false))
        #expect(quiet.notices.isEmpty)
    }

    @Test func groupTakesTopicsAsOperandsAndOptionsAfterThem() throws {
        let o = try KcatOptions.parse(["-b", "h", "-G", "g", "t1", "t2", "-e"], environment: env())
        #expect(o.mode == .group)
        #expect(o.group == "g")
        #expect(o.operands == ["t1", "t2"])
        #expect(o.exitAtEnd)
    }

    @Test func offsets() throws {
        func start(_ s: String) throws -> KcatOptions.StartOffset? {
            try KcatOptions.parse(["-C", "-b", "h", "-t", "x", "-o", s], environment: env()).startOffset
        }
        #expect(try start("beginning") == .beginning)
        #expect(try start("end") == .end)
        #expect(try start("stored") == .stored)
        #expect(try start("42") == .absolute(42))
        #expect(try start("-3") == .tail(3))
        #expect(try start("s@1700000000000") == .timestamp(1_700_000_000_000))
        let stop = try KcatOptions.parse(["-C", "-b", "h", "-t", "x", "-o", "e@99"], environment: env())
        #expect(stop.stopTimestamp == 99)
        #expect(throws: CLIError.self) { try start("soon") }
        #expect(throws: CLIError("-o ..@ timestamps can't be used with -G mode")) {
            try KcatOptions.parse(["-b", "h", "-G", "g", "-o", "s@1", "t"], environment: env())
        }
    }

    @Test func queryModeParsesTopicPartitionTimestamp() throws {
        let o = try KcatOptions.parse(["-b", "h", "-Q", "-t", "a:1:100", "-t", "b:0:-1"], environment: env())
        #expect(
            o.queries == [
                .init(topic: "a", partition: 1, timestamp: 100), .init(topic: "b", partition: 0, timestamp: -1),
            ]
        )
        // -t before -Q is a plain topic, as in kcat.
        #expect(throws: CLIError("-t <topic>:<partition>:<offset_or_timestamp> missing")) {
            try KcatOptions.parse(["-b", "h", "-t", "a:1:100", "-Q"], environment: env())
        }
    }

    @Test func kcatUsageErrors() {
        #expect(throws: CLIError("-b <broker,..> missing")) {
            try KcatOptions.parse(["-C", "-t", "x"], environment: env())
        }
        #expect(throws: CLIError("-t <topic> missing")) {
            try KcatOptions.parse(["-C", "-b", "h"], environment: env())
        }
        #expect(throws: CLIError("-s serdes only available in the consumer")) {
            try KcatOptions.parse(["-P", "-b", "h", "-t", "x", "-s", "i"], environment: env())
        }
        #expect(throws: CLIError("Message delimiter -D must not be empty when producing")) {
            try KcatOptions.parse(["-P", "-b", "h", "-t", "x", "-D", "\\x00"], environment: env())
        }
        #expect(throws: CLIError("file/topic list only allowed in producer(-P)/kafkaconsumer(-G) mode")) {
            try KcatOptions.parse(["-C", "-b", "h", "-t", "x", "file"], environment: env())
        }
        #expect(throws: CLIError("Only one file allowed for line mode (-l)")) {
            try KcatOptions.parse(["-P", "-l", "-b", "h", "-t", "x", "a", "b"], environment: env())
        }
        #expect(throws: CLIError("unknown option -y (see tern -h)")) {
            try KcatOptions.parse(["-y"], environment: env())
        }
        #expect(throws: CLIError("Unsupported formatter: %x")) {
            try KcatOptions.parse(["-C", "-b", "h", "-t", "x", "-f", "%x"], environment: env())
        }
        #expect(throws: CLIError("Invalid partition: one")) {
            try KcatOptions.parse(["-C", "-b", "h", "-t", "x", "-p", "one"], environment: env())
        }
    }

    @Test func propertiesAreCheckedAndBrokersComeFromThem() throws {
        let o = try KcatOptions.parse(
            ["-C", "-t", "x", "-X", "bootstrap.servers=a:1", "-X", "topic.auto.offset.reset=earliest"],
            environment: env()
        )
        #expect(o.bootstrapServers == "a:1")
        #expect(o.property("auto.offset.reset") == "earliest")
        #expect(throws: CLIError("No such configuration property: \"no.such\"")) {
            try KcatOptions.parse(["-X", "no.such=1"], environment: env())
        }
        #expect(throws: CLIError.self) { try KcatOptions.parse(["-X", "linger.ms=soon"], environment: env()) }
        #expect(
            throws: CLIError("Expected -X property=value, not linger.ms, use -X list to display available properties")
        ) {
            try KcatOptions.parse(["-X", "linger.ms"], environment: env())
        }
        #expect(try KcatOptions.parse(["-X", "list"], environment: env()).listConfig)
        #expect(try KcatOptions.parse(["-X", "dump"], environment: env()).dumpConfig)
    }

    @Test func configFileSearchOrder() throws {
        let files = [
            "/f.conf": "# comment\n\n  bootstrap.servers=from-F:1  \nclient.id=x\\=y\n",
            "/env.conf": "bootstrap.servers=from-env:1\n",
            "/home/u/.config/kcat.conf": "bootstrap.servers=from-home:1\n",
        ]
        let variables = ["HOME": "/home/u", "KCAT_CONFIG": "/env.conf"]
        let withF = try KcatOptions.parse(
            ["-C", "-t", "x", "-F", "/f.conf"],
            environment: env(variables: variables, files: files)
        )
        #expect(withF.bootstrapServers == "from-F:1")
        #expect(withF.property("client.id") == "x=y")
        let withEnv = try KcatOptions.parse(["-C", "-t", "x"], environment: env(variables: variables, files: files))
        #expect(withEnv.bootstrapServers == "from-env:1")
        let withHome = try KcatOptions.parse(
            ["-C", "-t", "x"],
            environment: env(variables: ["HOME": "/home/u"], files: files)
        )
        #expect(withHome.bootstrapServers == "from-home:1")
        #expect(throws: CLIError.self) {
            try KcatOptions.parse(["-C", "-t", "x", "-F", "/missing"], environment: env(files: files))
        }
        #expect(throws: CLIError("/bad:1: expected property=value")) {
            try KcatOptions.parse(["-F", "/bad"], environment: env(files: ["/bad": "=oops\n"]))
        }
        // -F none disables the search.
        #expect(throws: CLIError("-b <broker,..> missing")) {
            try KcatOptions.parse(
                ["-C", "-t", "x", "-F", "none"],
                environment: env(variables: ["HOME": "/home/u"], files: files)
            )
        }
    }

    /// ~/.config/tern.conf first, else kcat.conf, else kafkacat.conf: only one file is read.
    @Test func ternConfWinsOverKcatConf() throws {
        var files = [
            "/home/u/.config/tern.conf": "bootstrap.servers=from-tern:1\n",
            "/home/u/.config/kcat.conf": "bootstrap.servers=from-kcat:1\nclient.id=kcat-only\n",
            "/home/u/.config/kafkacat.conf": "bootstrap.servers=from-kafkacat:1\n",
        ]
        let home = ["HOME": "/home/u"]
        let tern = try KcatOptions.parse(["-C", "-t", "x"], environment: env(variables: home, files: files))
        #expect(tern.bootstrapServers == "from-tern:1")
        #expect(tern.property("client.id") == nil, "kcat.conf is not read when tern.conf exists")
        files["/home/u/.config/tern.conf"] = nil
        let kcat = try KcatOptions.parse(["-C", "-t", "x"], environment: env(variables: home, files: files))
        #expect(kcat.bootstrapServers == "from-kcat:1")
        files["/home/u/.config/kcat.conf"] = nil
        let old = try KcatOptions.parse(["-C", "-t", "x"], environment: env(variables: home, files: files))
        #expect(old.bootstrapServers == "from-kafkacat:1")
        #expect(old.notices.contains("Configuration filename kafkacat.conf is deprecated!"))
        // KCAT_CONFIG replaces the search, tern.conf included.
        files["/home/u/.config/tern.conf"] = "bootstrap.servers=from-tern:1\n"
        files["/env.conf"] = "bootstrap.servers=from-env:1\n"
        let viaEnv = try KcatOptions.parse(
            ["-C", "-t", "x"],
            environment: env(variables: home.merging(["KCAT_CONFIG": "/env.conf"]) { $1 }, files: files)
        )
        #expect(viaEnv.bootstrapServers == "from-env:1")
    }

    /// -d and -X debug take librdkafka's debug contexts; others are an error, worded as kcat's.
    @Test func debugContexts() throws {
        let o = try KcatOptions.parse(["-L", "-b", "h", "-d", "protocol,broker"], environment: env())
        #expect(o.debug == "protocol,broker")
        #expect(throws: CLIError("Invalid value \"foo\" for configuration property \"debug\"")) {
            try KcatOptions.parse(["-L", "-b", "h", "-d", "protocol,foo"], environment: env())
        }
        #expect(throws: CLIError("Invalid value \"nope\" for configuration property \"debug\"")) {
            try KcatOptions.parse(["-L", "-b", "h", "-X", "debug=nope"], environment: env())
        }
        #expect(
            try KcatOptions.parse(["-L", "-b", "h", "-X", "debug=all"], environment: env()).property("debug") == "all"
        )
    }

    /// -X list: the columns line up, the partitioner's long default included.
    @Test func propertyListingIsAligned() {
        let lines = ClientProperties.listing().split(separator: "\n").dropFirst(2)
        let columns = Set(
            lines.map { line in line.ranges(of: " | ").map { line.distance(from: line.startIndex, to: $0.lowerBound) } }
        )
        #expect(columns.count == 1, "\(columns)")
        #expect(lines.contains { $0.hasPrefix("partitioner ") && $0.contains("| consistent_random |") })
    }

    /// TERN_BROKERS is the broker list when neither -b nor a config file gives one.
    @Test func ternBrokersEnvironment() throws {
        let variables = ["TERN_BROKERS": "env:9092"]
        let fromEnv = try KcatOptions.parse(["-C", "-t", "x"], environment: env(variables: variables))
        #expect(fromEnv.bootstrapServers == "env:9092")
        let fromB = try KcatOptions.parse(["-C", "-t", "x", "-b", "b:1"], environment: env(variables: variables))
        #expect(fromB.bootstrapServers == "b:1")
        let fromX = try KcatOptions.parse(
            ["-C", "-t", "x", "-X", "bootstrap.servers=x:1"],
            environment: env(variables: variables)
        )
        #expect(fromX.bootstrapServers == "x:1")
        #expect(throws: CLIError("-b <broker,..> missing")) {
            try KcatOptions.parse(["-C", "-t", "x"], environment: env(variables: ["TERN_BROKERS": ""]))
        }
    }

    @Test func headersAndPack() throws {
        let o = try KcatOptions.parse(
            ["-P", "-b", "h", "-t", "x", "-H", "a=1=2", "-H", "b", "-H", "c="],
            environment: env()
        )
        #expect(
            o.headers == [
                .init(key: "a", value: Array("1=2".utf8)), .init(key: "b", value: nil), .init(key: "c", value: []),
            ]
        )
        #expect(throws: CLIError("Expected -H \"name=value..\" or -H \"name\"")) {
            try KcatOptions.parse(["-H", "=v"], environment: env())
        }
        let s = try KcatOptions.parse(
            ["-C", "-b", "h", "-t", "x", "-s", "key=>i", "-s", "value=s"],
            environment: env()
        )
        #expect(s.keyPack?.tokens == Array(">i".utf8))
        #expect(s.valuePack?.tokens == Array("s".utf8))
        #expect(throws: CLIError("Invalid token 'x' in key pack-format, see -s usage.")) {
            try KcatOptions.parse(["-s", "x"], environment: env())
        }
    }

    @Test func ternLongOptions() throws {
        let o = try KcatOptions.parse(["-C", "-J", "--base64", "-b", "h", "-t", "x"], environment: env())
        #expect(o.base64 && o.json)
        #expect(throws: CLIError("unknown option --nope")) { try KcatOptions.parse(["--nope"], environment: env()) }
        // An option's argument is never a long option, even when it looks like one.
        let f = try KcatOptions.parse(["-C", "-b", "h", "-t", "x", "-f", "--base64", "-D", "--x"], environment: env())
        #expect(f.format == "--base64" && !f.base64)
        #expect(f.delimiter == "--x")
        let clustered = try KcatOptions.parse(["-Cf", "--help", "-b", "h", "-t", "x"], environment: env())
        #expect(clustered.format == "--help" && !clustered.help)
    }
}

@Suite struct TopicPatternTests {
    @Test func regexTopicsResolveAgainstExistingOnes() throws {
        let existing = ["orders", "orders-eu", "audit", "__consumer_offsets", "xorders"]
        #expect(try TopicPatterns.resolve(["^orders.*"], existing: existing) == ["orders", "orders-eu"])
        #expect(try TopicPatterns.resolve(["audit", "^ord"], existing: existing) == ["audit", "orders", "orders-eu"])
        // Internal topics are never matched by a pattern.
        #expect(throws: CLIError.self) { try TopicPatterns.resolve(["^__.*"], existing: existing) }
        #expect(throws: CLIError.self) { try TopicPatterns.resolve(["^nothing"], existing: existing) }
        #expect(throws: CLIError.self) { try TopicPatterns.resolve(["^(unclosed"], existing: existing) }
    }
}
