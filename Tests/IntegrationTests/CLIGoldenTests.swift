import Foundation
import TernClient
import Testing

/// `tern` against Debian's `kcat` 1.7.1: both run with the same arguments against the same ternd
/// topic, and their stdout (and exit status) must be identical byte for byte. Then Tern's extras
/// and the admin subcommands against a live broker. Every command runs with a time limit.
@Suite(.serialized) struct CLIGoldenTests {
    let kcat = "/usr/bin/kcat"
    var tern: String { Paths.buildProducts.appendingPathComponent("tern").path }
    /// No ~/.config/kcat.conf of the machine's user may leak into either tool.
    let environment: [String: String] = [
        "HOME": "/nonexistent-tern-test-home", "KCAT_CONFIG": "", "TERN_BROKERS": "",
    ]

    func run(_ tool: String, _ arguments: [String], input: Data? = nil) async throws -> CommandResult {
        try await runCommand(tool, arguments, input: input, environment: environment, timeout: .seconds(30))
    }

    /// Runs both tools and expects the same stdout and exit status.
    func expectSame(
        _ arguments: [String],
        input: Data? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let k = try await run(kcat, arguments, input: input)
        let t = try await run(tern, arguments, input: input)
        #expect(
            t.stdout == k.stdout,
            "stdout differs for \(arguments):\nkcat: \(k.stdout.debugText)\ntern: \(t.stdout.debugText)\ntern stderr: \(t.stderr)",
            sourceLocation: sourceLocation
        )
        #expect(
            t.status == k.status,
            "exit status differs for \(arguments): kcat \(k.status), tern \(t.status)\n\(t.stderr)",
            sourceLocation: sourceLocation
        )
    }

    /// The fixture: messages with keys, headers, binary and empty values, NULLs, three partitions.
    func produceFixture(_ b: String, topic: String) async throws {
        let p0 = Data("k1:v1\nk2:\n:v3\nplain\nq:\"quoted\" \\ back\\slash\n".utf8)
        _ = try await run(
            kcat,
            ["-b", b, "-P", "-t", topic, "-p", "0", "-K:", "-H", "a=1", "-H", "b", "-H", "c="],
            input: p0
        )
        var p1 = Data("bin:".utf8)
        p1.append(contentsOf: [0x01, 0x09, 0x1F, 0x7F, 0xC3, 0x28, 0xFF, 0x2F])
        p1.append(Data("\nnull:\n:\n".utf8))
        _ = try await run(kcat, ["-b", b, "-P", "-t", topic, "-p", "1", "-K:", "-Z"], input: p1)
        var p2 = Data()
        for value: UInt32 in [1, 256, 0xFFFF_FFFE] {
            withUnsafeBytes(of: value.bigEndian) { p2.append(contentsOf: $0) }
            p2.append(contentsOf: [0x7C])  // '|' delimiter
        }
        _ = try await run(kcat, ["-b", b, "-P", "-t", topic, "-p", "2", "-D", "|", "-k", "key"], input: p2)
    }

    @Test func consumerOutputMatchesKcat() async throws {
        try await withTernd(environment: ["TERN_NUM_PARTITIONS": "3"]) { ternd in
            let b = ternd.bootstrap
            let topic = "golden"
            try await produceFixture(b, topic: topic)
            // Timestamps of the fixture, for s@ and e@.
            let ts = try await run(kcat, ["-b", b, "-C", "-t", topic, "-p", "0", "-e", "-q", "-f", "%T\n"])
            let stamps = ts.output.split(separator: "\n").map(String.init)
            try #require(stamps.count == 5, "fixture: \(ts.output) \(ts.stderr)")

            let base = ["-b", b, "-C", "-t", topic, "-e", "-q"]
            var cases: [[String]] = []
            for p in ["0", "1", "2"] {
                cases += [
                    ["-p", p],
                    ["-p", p, "-J"],
                    ["-p", p, "-K:"],
                    ["-p", p, "-K", "::", "-D", "|"],
                    ["-p", p, "-K", "\\t", "-D", "\\x1e\\n"],
                    ["-p", p, "-Z", "-K:"],
                    ["-p", p, "-f", "%t|%p|%o|%k|%K|%s|%S|%h|%T|%%\\n"],
                    ["-p", p, "-f", "%R%s"],
                    ["-p", p, "-Z", "-f", "[%k] [%s] [%h]\\r\\n"],
                    ["-p", p, "-O", "-u", "-D", ""],
                ]
            }
            cases += [
                ["-p", "0", "-f", "\\t\\x41\\101\\x0ab\\q%s\\n"],
                ["-p", "0", "-o", "-2"],
                ["-p", "0", "-o", "2"],
                ["-p", "0", "-o", "end"],
                ["-p", "0", "-o", "beginning", "-c", "3"],
                ["-p", "0", "-c", "1", "-J"],
                ["-p", "0", "-c", "0"],
                ["-p", "0", "-J", "-f", "--\\n%s"],
                ["-p", "0", "-J", "-f", "%s\\n"],
                ["-p", "2", "-s", ">I"],
                ["-p", "2", "-s", "value=>Hh", "-f", "%k=%s\\n"],
                ["-p", "2", "-s", "key=s", "-s", "value=BBBB", "-f", "%k %s\\n"],
                ["-p", "2", "-s", "value=I$", "-f", "%s\\n"],
                ["-p", "0", "-o", "s@\(stamps[2])"],
                ["-p", "0", "-o", "e@\(stamps[0])"],
                ["-p", "0", "-X", "topic.auto.offset.reset=earliest", "-X", "fetch.wait.max.ms=100"],
            ]
            for c in cases { try await expectSame(base + c) }

            // -o stored reads a group's committed offset (set here with tern's reset-offsets), and
            // both tools commit the position they reached when -C has a group.id.
            var stored: [CommandResult] = []
            var committed: [String] = []
            for tool in [kcat, tern] {
                let reset = try await run(
                    tern,
                    [
                        "group", "reset-offsets", "-b", b, "--group", "stored", "--topic", "\(topic):0", "--to-offset",
                        "2", "--execute",
                    ]
                )
                #expect(reset.status == 0, "\(reset.stderr)")
                stored.append(try await run(tool, base + ["-p", "0", "-o", "stored", "-X", "group.id=stored"]))
                committed.append(try await run(tern, ["group", "describe", "stored", "--json", "-b", b]).output)
            }
            #expect(stored[1].stdout == stored[0].stdout, "kcat: \(stored[0].output) tern: \(stored[1].output)")
            #expect(stored[0].stdout == Data("v3\nplain\n\"quoted\" \\ back\\slash\n".utf8))
            #expect(committed[1] == committed[0])
            #expect(committed[0].contains(#""partition":0,"committedOffset":5,"logEndOffset":5,"lag":0"#))

            // All partitions at once: the interleaving is up to the fetches, so compare as sets.
            let k = try await run(kcat, base + ["-J"])
            let t = try await run(tern, base + ["-J"])
            #expect(Set(t.output.split(separator: "\n")) == Set(k.output.split(separator: "\n")))
            #expect(t.output.split(separator: "\n").count == 11)

            // Metadata and offsets-for-times.
            try await expectSame(["-b", b, "-L", "-t", topic])
            try await expectSame(["-b", b, "-L", "-t", topic, "-J"])
            try await expectSame(["-b", b, "-Q", "-t", "\(topic):0:\(stamps[1])", "-t", "\(topic):2:0"])
            try await expectSame(["-b", b, "-Q", "-J", "-t", "\(topic):0:\(stamps[1])", "-t", "\(topic):1:0"])
            try await expectSame([
                "-b", b, "-Q", "-t", "\(topic):0:99999999999999", "-t", "\(topic):1:-1", "-t", "\(topic):2:-2",
            ])

            // Errors: same exit status, one line on stderr.
            for args in [
                ["-b", b, "-C", "-t", "no-such-topic", "-e"],
                ["-b", b, "-C", "-t", topic, "-p", "7", "-e"],
                ["-b", b, "-C", "-t", topic, "-y"],
                ["-b", b, "-C", "-t", topic, "-f", "%z"],
                ["-b", b, "-C"],
                ["-C", "-t", topic],
                ["-b", b, "-C", "-t", topic, "-X", "no.such.property=1"],
                ["-b", b, "-L", "-d", "protocol,nonsense"],
                ["-b", b, "-C", "-t", topic, "-p", "2", "-e", "-s", "q$"],
            ] {
                try await expectSame(args)
                let t = try await run(tern, args)
                #expect(t.stderr.split(separator: "\n").count == 1, "\(args): \(t.stderr)")
            }
            let unreachable = try await run(tern, ["-b", "127.0.0.1:1", "-C", "-t", topic, "-e", "-m", "2"])
            #expect(unreachable.status == 1)
            #expect(unreachable.stderr.hasPrefix("% ERROR: "))
        }
    }

    /// `-G`: the same output as kcat for a one-partition topic, and `-e` ends a member once every
    /// assigned partition reached its end (kcat issues #86/#264/#313), committing on the way out.
    @Test func groupConsumerMatchesKcatAndExitsAtEnd() async throws {
        try await withTernd(environment: ["TERN_NUM_PARTITIONS": "3"]) { ternd in
            let b = ternd.bootstrap
            try await produceFixture(b, topic: "multi")
            let single = Data("one\ntwo\nthree\n".utf8)
            _ = try await run(kcat, ["-b", b, "-P", "-t", "single", "-p", "0"], input: single)
            for args in [
                ["-o", "beginning", "-e", "-q"], ["-o", "beginning", "-e", "-q", "-J"], ["-o", "1", "-c", "1", "-q"],
            ] {
                let k = try await run(kcat, ["-b", b, "-G", "k-\(args.count)"] + args + ["single"])
                let t = try await run(tern, ["-b", b, "-G", "t-\(args.count)"] + args + ["single"])
                #expect(t.stdout == k.stdout, "\(args): kcat \(k.output) tern \(t.output) \(t.stderr)")
                #expect(t.status == k.status)
            }
            // Three partitions, one member: -e exits once all three are drained.
            let all = try await run(
                tern,
                ["-b", b, "-G", "drain", "-X", "auto.offset.reset=earliest", "-e", "-q", "-J", "multi"]
            )
            #expect(all.status == 0, "\(all.stderr)")
            let reference = try await run(kcat, ["-b", b, "-C", "-t", "multi", "-e", "-q", "-J"])
            #expect(Set(all.output.split(separator: "\n")) == Set(reference.output.split(separator: "\n")))
            // The member committed its positions when it left.
            let described = try await run(tern, ["group", "describe", "drain", "--json", "-b", b])
            #expect(
                described.output.contains(
                    #""topic":"multi","partition":0,"committedOffset":5,"logEndOffset":5,"lag":0"#
                )
            )
            #expect(
                described.output.contains(
                    #""topic":"multi","partition":2,"committedOffset":3,"logEndOffset":3,"lag":0"#
                )
            )
        }
    }

    @Test func producerMatchesKcat() async throws {
        try await withTernd { ternd in
            let b = ternd.bootstrap
            let dir = try Paths.temporaryDirectory()
            let lineFile = dir.appendingPathComponent("lines.txt")
            try Data("l1;;l2;;;;l3".utf8).write(to: lineFile)
            let wholeFile = dir.appendingPathComponent("whole.bin")
            try Data([0x00, 0x0A, 0xFF, 0x41]).write(to: wholeFile)
            let input = Data("a:1\nb:\n:3\n\nplain\nlast:no-newline".utf8)
            var n = 0
            for (args, stdin) in [
                (["-K:"], input),
                (["-K:", "-Z"], input),
                (["-k", "fixed", "-H", "h1=v1", "-H", "h2"], input),
                (["-K:", "-k", "fallback"], input),
                (["-D", ";;"], Data("x;;y;;;;z".utf8)),
                (["-D", "\\x1e"], Data("r1\u{1e}r2".utf8)),
                (["-c", "2"], input),
                (["-c", "0"], input),
                (["-z", "gzip"], input),
                (["-z", "snappy"], input),
                (["-z", "lz4"], input),
                (["-z", "zstd"], input),
                (["-p", "0", "-X", "acks=1", "-X", "linger.ms=1"], input),
                (["-l", "-D", ";;", lineFile.path], Data()),
                ([wholeFile.path, lineFile.path], Data()),
            ] as [([String], Data)] {
                n += 1
                let kTopic = "kp\(n)"
                let tTopic = "tp\(n)"
                let k = try await run(kcat, ["-b", b, "-P", "-t", kTopic] + args, input: stdin)
                let t = try await run(tern, ["-b", b, "-P", "-t", tTopic] + args, input: stdin)
                #expect(t.status == k.status, "\(args): \(t.stderr)")
                #expect(t.stdout == k.stdout)
                let readBack = ["-C", "-e", "-q", "-f", "%p|%k|%K|%s|%S|%h\\n"]
                let kOut = try await run(kcat, ["-b", b, "-t", kTopic] + readBack)
                let tOut = try await run(kcat, ["-b", b, "-t", tTopic] + readBack)
                #expect(tOut.stdout == kOut.stdout, "\(args):\nkcat: \(kOut.output)\ntern: \(tOut.output)")
            }
            // Tee: kcat writes each input message without its delimiter.
            let k = try await run(kcat, ["-b", b, "-P", "-t", "tee-k", "-T", "-K:"], input: input)
            let t = try await run(tern, ["-b", b, "-P", "-t", "tee-t", "-T", "-K:"], input: input)
            #expect(t.stdout == k.stdout, "kcat: \(k.output) tern: \(t.output)")
            try? FileManager.default.removeItem(at: dir)
        }
    }

    /// `-X partitioner=…`: every keyed record lands on the partition kcat (librdkafka) puts it on;
    /// the random ones spread records over the partitions.
    @Test func partitionersMatchKcat() async throws {
        try await withTernd(environment: ["TERN_NUM_PARTITIONS": "6"]) { ternd in
            let b = ternd.bootstrap
            let keyed = (0..<60).map { "key-\($0):v\($0)" } + ["kafka:k", "123456789:n", "\u{e9}t\u{e9}:u", "a b c:s"]
            // Empty keys (":v") and NULL keys (no delimiter) are placed deterministically by these.
            let fixedEmptyAndNull = ["consistent", "murmur2", "fnv1a"]
            let emptyHashed = ["murmur2_random", "fnv1a_random"]
            /// key → partition, read back with kcat; NULL keys (no -Z: printed empty) as "".
            func placement(_ topic: String) async throws -> [String: Set<String>] {
                let read = try await run(kcat, ["-b", b, "-C", "-t", topic, "-e", "-q", "-f", "%k %p\\n"])
                var result: [String: Set<String>] = [:]
                for line in read.output.split(separator: "\n") {
                    let space = line.lastIndex(of: " ")!
                    result[String(line[..<space]), default: []].insert(String(line[line.index(after: space)...]))
                }
                return result
            }
            for partitioner in [nil, "consistent_random"] + fixedEmptyAndNull + emptyHashed {
                var lines = keyed
                if let partitioner, fixedEmptyAndNull.contains(partitioner) { lines += [":empty", "nokey"] }
                if let partitioner, emptyHashed.contains(partitioner) { lines += [":empty"] }
                let input = Data((lines.joined(separator: "\n") + "\n").utf8)
                let name = partitioner ?? "default"
                let args = ["-b", b, "-P", "-K:"] + (partitioner.map { ["-X", "partitioner=\($0)"] } ?? [])
                let k = try await run(kcat, args + ["-t", "k-\(name)"], input: input)
                let t = try await run(tern, args + ["-t", "t-\(name)"], input: input)
                #expect(k.status == 0 && t.status == 0, "\(name): \(k.stderr) \(t.stderr)")
                let kPlaced = try await placement("k-\(name)")
                let tPlaced = try await placement("t-\(name)")
                #expect(tPlaced == kPlaced, "\(name):\nkcat: \(kPlaced)\ntern: \(tPlaced)")
                #expect(kPlaced.count == lines.count - (lines.contains("nokey") ? 1 : 0))
                #expect(Set(kPlaced.values.flatMap { $0 }).count == 6, "\(name): keys use every partition")
            }
            // random: keyed records go anywhere; NULL keys spread too once sticky partitioning is off
            // (librdkafka keeps them on one partition for sticky.partitioning.linger.ms, 10 ms).
            let unkeyed = Data((0..<60).map { "line \($0)" }.joined(separator: "\n").utf8)
            for (name, args, input) in [
                ("random", ["-K:", "-X", "partitioner=random"], Data((keyed.joined(separator: "\n")).utf8)),
                ("nullkeys", ["-X", "sticky.partitioning.linger.ms=0"], unkeyed),
                ("minus1", ["-p", "-1", "-X", "sticky.partitioning.linger.ms=0"], unkeyed),
            ] {
                for (tool, topic) in [(kcat, "kr-\(name)"), (tern, "tr-\(name)")] {
                    let produced = try await run(tool, ["-b", b, "-P", "-t", topic] + args, input: input)
                    #expect(produced.status == 0, "\(name): \(produced.stderr)")
                    let read = try await run(kcat, ["-b", b, "-C", "-t", topic, "-e", "-q", "-f", "%p\\n"])
                    let used = Set(read.output.split(separator: "\n"))
                    #expect(read.output.split(separator: "\n").count == 60 + (name == "random" ? 4 : 0))
                    #expect(used.count > 1, "\(name) \(tool): all records in partition(s) \(used)")
                }
            }
        }
    }

    /// Unkeyed records with the default settings: librdkafka's sticky partitioning keeps them on
    /// one partition for 10 ms (2 × linger.ms), then picks another, so records typed over time
    /// spread over the partitions (kcat reads a pipe to its end first, so only tern is checked).
    @Test func unkeyedRecordsSpreadOverTime() async throws {
        try await withTernd(environment: ["TERN_NUM_PARTITIONS": "6"]) { ternd in
            let b = ternd.bootstrap
            let process = Process()
            process.executableURL = URL(fileURLWithPath: self.tern)
            process.arguments = ["-b", b, "-P", "-t", "spread"]
            process.environment = ProcessInfo.processInfo.environment.merging(self.environment) { $1 }
            let stdin = Pipe()
            process.standardInput = stdin
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            for i in 0..<12 {
                try stdin.fileHandleForWriting.write(contentsOf: Data("line \(i)\n".utf8))
                try await Task.sleep(for: .milliseconds(40))
            }
            try stdin.fileHandleForWriting.close()
            let deadline = ContinuousClock.now + .seconds(60)
            while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(process.terminationStatus == 0)
            let read = try await self.run(self.kcat, ["-b", b, "-C", "-t", "spread", "-e", "-q", "-f", "%p\\n"])
            let partitions = read.output.split(separator: "\n")
            #expect(partitions.count == 12)
            #expect(Set(partitions).count > 1, "every record in partition \(Set(partitions))")
        }
    }

    /// Errors a kcat user understands: what failed, where, in librdkafka's words for broker errors.
    @Test func errorMessagesReadLikeKcat() async throws {
        try await withTernd { ternd in
            let b = ternd.bootstrap
            // Nothing listens: "Connection refused" and the address (not NIO's "connection reset").
            let port = try await freePort()
            let refused = try await run(tern, ["-b", "127.0.0.1:\(port)", "-L", "-m", "2"])
            #expect(refused.status == 1)
            #expect(refused.stderr == "% ERROR: cannot connect to 127.0.0.1:\(port): Connection refused\n")
            // An HTTP server (ternd's admin port) is not a Kafka broker.
            let http = try await run(tern, ["-b", "127.0.0.1:\(ternd.httpPort)", "-L", "-m", "2"])
            #expect(http.status == 1)
            #expect(
                http.stderr.hasPrefix("% ERROR: 127.0.0.1:\(ternd.httpPort) is not a Kafka broker"),
                "\(http.stderr)"
            )
            #expect(http.stderr.contains("an HTTP server?"))
            #expect(!http.stderr.contains("WireError"))
            // A batch larger than the topic's segment: librdkafka's text for RECORD_LIST_TOO_LARGE.
            let created = try await run(
                tern,
                ["topic", "create", "small", "-b", b, "--config", "segment.bytes=1000"]
            )
            #expect(created.stdout == Data("Created topic \"small\" with 1 partition.\n".utf8))
            let big = Data(repeating: UInt8(ascii: "a"), count: 3000)
            let k = try await run(kcat, ["-b", b, "-P", "-t", "small"], input: big)
            let t = try await run(tern, ["-b", b, "-P", "-t", "small"], input: big)
            #expect(k.status == 1 && t.status == 1)
            let kcatLine =
                "% Delivery failed for message: Broker: Message batch larger than configured server segment size"
            #expect(k.stderr.contains(kcatLine))
            #expect(t.stderr.hasPrefix(kcatLine), "\(t.stderr)")
            #expect(!t.stderr.contains("RECORD_LIST_TOO_LARGE"))
            // -d: each request's API and version, and each response's error codes, on stderr.
            let debug = try await run(tern, ["-b", b, "-L", "-t", "no-such-topic", "-d", "protocol"])
            #expect(debug.stderr.contains("request Metadata v"), "\(debug.stderr)")
            #expect(debug.stderr.contains("response ApiVersions v3 from \(b): no errors"))
            #expect(debug.stderr.contains("errors UNKNOWN_TOPIC_OR_PARTITION(3)"))
            let quiet = try await run(tern, ["-b", b, "-L", "-t", "no-such-topic"])
            #expect(quiet.stdout == debug.stdout)
            #expect(!quiet.stderr.contains("request Metadata"))
        }
    }

    /// `tern -h` is about Tern; `--version` names the commit the binaries were built from.
    @Test func helpAndVersion() async throws {
        let help = try await run(tern, ["-h"])
        #expect(help.status == 0)
        #expect(help.output.contains("Tern and Kafka brokers"))
        #expect(!help.output.contains("librdkafka"))
        #expect(help.output.contains("$HOME/.config/tern.conf"))
        #expect(help.output.contains("$TERN_BROKERS"))
        #expect(help.output.contains("partitioner="))
        #expect(help.output.split(separator: "\n").allSatisfy { $0.count <= 100 })
        // Continuation lines of a description start a new sentence: none begins in lower case
        // (lists of values, like -o's, are not sentences).
        let continuations = help.output.split(separator: "\n").filter {
            $0.hasPrefix(String(repeating: " ", count: 21)) && $0.dropFirst(21).first != " "
                && !$0.contains(" | ") && !$0.contains("@")
        }
        #expect(!continuations.isEmpty)
        #expect(continuations.allSatisfy { !($0.drop { $0 == " " }.first?.isLowercase ?? false) }, "\(continuations)")
        // Subcommand help paragraphs are wrapped by ArgumentParser to the terminal, not mid-sentence
        // at the source's line breaks.
        var wide = self.environment
        wide["COLUMNS"] = "250"
        let bench = try await runCommand(tern, ["bench", "--help"], environment: wide, timeout: .seconds(30))
        #expect(bench.output.contains("a plain line every 5 s otherwise; see --progress-interval), then prints one"))
        let dump = try await runCommand(tern, ["dump-log", "--help"], environment: wide, timeout: .seconds(30))
        #expect(dump.output.contains("checks them: batch framing, CRC-32C, offsets increasing"), "\(dump.output)")
        // Outside a git checkout (a source tarball) the commit reads "unknown".
        let git = ["-C", Paths.packageRoot.path]
        let isCheckout = try await run("/usr/bin/git", git + ["rev-parse", "HEAD"]).status == 0
        var commits: Set<String> = []
        for (tool, args, name) in [
            (tern, ["--version"], "tern"), (tern, ["-V"], "tern"), (Paths.ternd, ["--version"], "ternd"),
        ] {
            let version = try await run(tool, args)
            #expect(version.status == 0)
            let line = version.output
            #expect(line.hasPrefix("\(name) 0.1.0 (commit "), "\(line)")
            if !isCheckout {
                #expect(line.hasPrefix("\(name) 0.1.0 (commit unknown)"), "\(line)")
                continue
            }
            let match = try #require(line.firstMatch(of: #/\(commit ([0-9a-f]{12})(-dirty)?\)/#), "\(line)")
            commits.insert(String(match.1))
        }
        guard isCheckout else { return }
        // Both binaries name one commit, a real commit of this checkout: HEAD, or an ancestor when
        // commits were made after the build.
        #expect(commits.count == 1, "\(commits)")
        let commit = try #require(commits.first)
        let ancestor = try await run("/usr/bin/git", git + ["merge-base", "--is-ancestor", commit, "HEAD"])
        #expect(ancestor.status == 0, "\(commit) is not HEAD or an ancestor of it: \(ancestor.stderr)")
    }

    /// TERN_BROKERS stands in for -b in kcat mode, as in the subcommands.
    @Test func ternBrokersInKcatMode() async throws {
        try await withTernd { ternd in
            var environment = self.environment
            environment["TERN_BROKERS"] = ternd.bootstrap
            let produced = try await runCommand(
                tern,
                ["-P", "-t", "env"],
                input: Data("a\nb\n".utf8),
                environment: environment,
                timeout: .seconds(30)
            )
            #expect(produced.status == 0, "\(produced.stderr)")
            let read = try await runCommand(
                tern,
                ["-C", "-t", "env", "-e", "-q"],
                environment: environment,
                timeout: .seconds(30)
            )
            #expect(read.output == "a\nb\n", "\(read.stderr)")
        }
    }

    @Test func jsonCopyBase64AndHumanTimestamps() async throws {
        try await withTernd(environment: ["TERN_NUM_PARTITIONS": "3"]) { ternd in
            let b = ternd.bootstrap
            try await produceFixture(b, topic: "src")
            // -J --base64 → -P -J copies keys, values, headers, partitions and timestamps exactly.
            let dump = try await run(tern, ["-b", b, "-C", "-t", "src", "-e", "-q", "-J", "--base64"])
            #expect(dump.status == 0)
            #expect(dump.output.contains(#""encoding":"base64""#))
            let copy = try await run(tern, ["-b", b, "-P", "-t", "dst", "-J"], input: dump.stdout)
            #expect(copy.status == 0, "\(copy.stderr)")
            for p in ["0", "1", "2"] {
                let fmt = ["-e", "-q", "-p", p, "-f", "%p|%o|%k|%K|%s|%S|%h|%T\\n"]
                let src = try await run(kcat, ["-b", b, "-C", "-t", "src"] + fmt)
                let dst = try await run(kcat, ["-b", b, "-C", "-t", "dst"] + fmt)
                #expect(dst.stdout == src.stdout, "partition \(p):\nsrc: \(src.output)\ndst: \(dst.output)")
            }
            // kcat's own -J output (raw bytes) is accepted too.
            let raw = try await run(kcat, ["-b", b, "-C", "-t", "src", "-p", "0", "-e", "-q", "-J"])
            let copy2 = try await run(tern, ["-b", b, "-P", "-t", "dst2", "-J"], input: raw.stdout)
            #expect(copy2.status == 0, "\(copy2.stderr)")
            let back = try await run(kcat, ["-b", b, "-C", "-t", "dst2", "-p", "0", "-e", "-q", "-f", "%k|%s|%h\\n"])
            let orig = try await run(kcat, ["-b", b, "-C", "-t", "src", "-p", "0", "-e", "-q", "-f", "%k|%s|%h\\n"])
            #expect(back.stdout == orig.stdout)
            // %I: ISO-8601 UTC.
            let iso = try await run(tern, ["-b", b, "-C", "-t", "src", "-p", "0", "-c", "1", "-q", "-f", "%I %T\\n"])
            let parts = iso.output.split(separator: " ")
            #expect(parts.count == 2)
            #expect(parts.first?.hasSuffix("Z") == true && parts.first?.count == 24)
        }
    }

    /// Each typed line is sent at once, while stdin stays open (kcat 1.7.1 waits for EOF).
    @Test func interactiveProducerSendsEachLine() async throws {
        try await withTernd { ternd in
            let b = ternd.bootstrap
            let process = Process()
            process.executableURL = URL(fileURLWithPath: self.tern)
            process.arguments = ["-b", b, "-P", "-t", "typed"]
            process.environment = ProcessInfo.processInfo.environment.merging(self.environment) { $1 }
            let stdin = Pipe()
            process.standardInput = stdin
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            try stdin.fileHandleForWriting.write(contentsOf: Data("first line\n".utf8))
            var seen = ""
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let read = try await self.run(self.kcat, ["-b", b, "-C", "-t", "typed", "-e", "-q"])
                seen = read.output
                if seen == "first line\n" { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(seen == "first line\n")
            #expect(process.isRunning, "the producer is still reading stdin")
            try stdin.fileHandleForWriting.close()
            let exitDeadline = ContinuousClock.now + .seconds(60)
            while process.isRunning, ContinuousClock.now < exitDeadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(process.terminationStatus == 0)
        }
    }

    @Test func adminSubcommandsAgainstALiveBroker() async throws {
        try await withTernd { ternd in
            let b = ternd.bootstrap
            func tern(_ args: [String], input: Data? = nil) async throws -> CommandResult {
                try await self.run(self.tern, args + ["-b", b], input: input)
            }
            let created = try await tern([
                "topic", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000",
            ])
            #expect(created.status == 0, "\(created.stderr)")
            #expect(try await tern(["topic", "create", "orders"]).status == 1)
            #expect(try await tern(["topic", "create", "orders", "--if-not-exists"]).status == 0)
            let list = try await tern(["topic", "list", "--json"])
            #expect(list.output.contains(#"{"topic":"orders","partitions":3,"internal":false}"#))
            _ = try await self.run(
                self.tern,
                ["-b", b, "-P", "-t", "orders", "-p", "1"],
                input: Data("a\nb\nc\n".utf8)
            )
            let describe = try await tern(["topic", "describe", "orders", "--json"])
            // sizeBytes: the partition's segment files on disk, as DescribeLogDirs reports them.
            let segmentDirectory = ternd.dataDirectory.appendingPathComponent("orders-1")
            let segmentBytes = try FileManager.default.contentsOfDirectory(atPath: segmentDirectory.path)
                .filter { $0.hasSuffix(".log") }
                .reduce(Int64(0)) { total, name in
                    let path = segmentDirectory.appendingPathComponent(name).path
                    return total
                        + ((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0)
                }
            #expect(segmentBytes > 0)
            #expect(
                describe.output.contains(
                    #"{"partition":1,"leader":0,"replicas":[0],"isr":[0],"earliestOffset":0,"latestOffset":3,"records":3,"#
                        + #""sizeBytes":\#(segmentBytes)}"#
                ),
                "\(describe.output)"
            )
            #expect(
                describe.output.contains(
                    #""partition":0,"leader":0,"replicas":[0],"isr":[0],"earliestOffset":0,"latestOffset":0,"records":0,"sizeBytes":0}"#
                )
            )
            let text = try await tern(["topic", "describe", "orders"])
            #expect(text.output.contains("RECORDS  SIZE"), "\(text.output)")
            #expect(describe.output.contains(#""configs":{"retention.ms":"3600000"}"#))
            let missing = try await tern(["topic", "describe", "nope"])
            #expect(missing.status == 1)
            #expect(missing.stderr == "tern: topic \"nope\": no such topic\n")

            // A group that consumed part of the topic: committed offsets and lag.
            let consumed = try await self.run(
                self.kcat,
                ["-b", b, "-G", "billing", "-X", "auto.offset.reset=earliest", "-c", "2", "-q", "orders"]
            )
            #expect(consumed.status == 0, "\(consumed.stderr)")
            let group = try await tern(["group", "describe", "billing", "--json"])
            #expect(group.status == 0, "\(group.stderr)")
            #expect(
                group.output.contains(#""topic":"orders","partition":1,"committedOffset":2,"logEndOffset":3,"lag":1"#)
            )
            let groups = try await tern(["group", "list"])
            #expect(groups.output.contains("billing"))
            let dry = try await tern([
                "group", "reset-offsets", "--group", "billing", "--topic", "orders:1", "--to-earliest", "--json",
            ])
            #expect(
                dry.output
                    == #"{"group":"billing","executed":false,"partitions":[{"topic":"orders","partition":1,"currentOffset":2,"newOffset":0}]}"#
                    + "\n"
            )
            let executed = try await tern([
                "group", "reset-offsets", "--group", "billing", "--topic", "orders:1", "--to-offset", "1", "--execute",
            ])
            #expect(executed.status == 0, "\(executed.stderr)")
            let after = try await tern(["group", "describe", "billing", "--json"])
            #expect(after.output.contains(#""partition":1,"committedOffset":1,"logEndOffset":3,"lag":2"#))

            let deleted = try await tern(["topic", "delete", "orders"])
            #expect(deleted.status == 0)
            let unreachable = try await self.run(self.tern, ["topic", "list", "-b", "127.0.0.1:1", "--timeout", "2"])
            #expect(unreachable.status == 1)
            #expect(unreachable.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test func partitionRecordAndClusterSubcommands() async throws {
        try await withTernd { ternd in
            let b = ternd.bootstrap
            func tern(_ args: [String], input: Data? = nil) async throws -> CommandResult {
                try await self.run(self.tern, args + ["-b", b], input: input)
            }
            #expect(try await tern(["topic", "create", "grow", "--partitions", "2"]).status == 0)
            let dry = try await tern(["topic", "add-partitions", "grow", "--partitions", "3", "--validate-only"])
            #expect(dry.output == "Topic \"grow\" can grow to 3 partitions (nothing changed).\n", "\(dry.stderr)")
            let grown = try await tern(["topic", "add-partitions", "grow", "--partitions", "3"])
            #expect(grown.status == 0, "\(grown.stderr)")
            #expect(grown.output == "Topic \"grow\" now has 3 partitions.\n")
            let json = try await tern(["topic", "add-partitions", "grow", "-p", "4", "--json"])
            #expect(json.output == #"{"topic":"grow","partitions":4,"validateOnly":false}"# + "\n")
            let shrink = try await tern(["topic", "add-partitions", "grow", "--partitions", "2"])
            #expect(shrink.status == 1)
            #expect(
                shrink.stderr
                    == "tern: cannot add partitions to \"grow\": INVALID_PARTITIONS(37) (The topic grow currently "
                    + "has 4 partition(s); 2 would not be an increase.)\n"
            )
            let missing = try await tern(["topic", "add-partitions", "nope", "--partitions", "2"])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("UNKNOWN_TOPIC_OR_PARTITION(3)"), "\(missing.stderr)")
            let list = try await tern(["topic", "list", "--json"])
            #expect(list.output.contains(#"{"topic":"grow","partitions":4,"internal":false}"#))

            // Records in the new partition 3 and in partition 0, then deleted up to an offset.
            for partition in ["0", "3"] {
                let produced = try await self.run(
                    self.tern,
                    ["-b", b, "-P", "-t", "grow", "-p", partition],
                    input: Data("a\nb\nc\n".utf8)
                )
                #expect(produced.status == 0, "\(produced.stderr)")
            }
            let consumed = try await self.run(self.tern, ["-b", b, "-C", "-t", "grow", "-p", "3", "-e", "-q"])
            #expect(consumed.output == "a\nb\nc\n")
            let deleted = try await tern(["topic", "delete-records", "grow", "--partition", "3", "--offset", "2"])
            #expect(deleted.status == 0, "\(deleted.stderr)")
            #expect(deleted.output == "PARTITION  LOW_WATERMARK\n3          2\n")
            let after = try await self.run(self.tern, ["-b", b, "-C", "-t", "grow", "-p", "3", "-e", "-q"])
            #expect(after.output == "c\n")
            let all = try await tern(["topic", "delete-records", "grow", "--offset", "-1", "--json"])
            #expect(
                all.output
                    == #"[{"topic":"grow","partition":0,"lowWatermark":3},{"topic":"grow","partition":1,"lowWatermark":0},"#
                    + #"{"topic":"grow","partition":2,"lowWatermark":0},{"topic":"grow","partition":3,"lowWatermark":3}]"#
                    + "\n"
            )
            let past = try await tern(["topic", "delete-records", "grow", "-p", "0", "--offset", "9"])
            #expect(past.status == 1)
            #expect(past.stderr == "tern: Broker: Offset out of range (cannot delete records of grow[0])\n")
            let unknown = try await tern(["topic", "delete-records", "nope", "--offset", "1"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr == "tern: topic \"nope\": no such topic\n")

            let port = ternd.port
            let cluster = try await tern(["cluster", "describe"])
            #expect(cluster.status == 0, "\(cluster.stderr)")
            let pad = String(repeating: " ", count: "\(port)".count - 4)
            #expect(
                cluster.output
                    == "Cluster: tern-cluster  Controller: 0\nBROKER  HOST       PORT\(pad)  RACK\n0       127.0.0.1  \(port)  -\n"
            )
            let clusterJSON = try await tern(["cluster", "describe", "--json", "--authorized-operations"])
            #expect(
                clusterJSON.output
                    == #"{"clusterId":"tern-cluster","controller":0,"brokers":[{"id":0,"host":"127.0.0.1","port":"#
                    + "\(port)"
                    + #","rack":null}],"authorizedOperations":["CREATE","ALTER","DESCRIBE","CLUSTER_ACTION","#
                    + #""DESCRIBE_CONFIGS","ALTER_CONFIGS","IDEMPOTENT_WRITE"]}"# + "\n"
            )
        }
    }

    /// `bench produce --transactional-id` commits its records in transactions of
    /// `--transaction-records`; `bench consume --isolation-level read_committed` reads them all
    /// (markers are not records), and confluent-kafka's read_committed consumer agrees.
    @Test func benchProducesInTransactions() async throws {
        try await withTernd { ternd in
            let b = ternd.bootstrap
            let produce = try await self.run(
                self.tern,
                [
                    "bench", "produce", "-b", b, "--topic", "bench-tx", "-n", "1000", "-s", "16", "--partitions",
                    "2", "--producers", "2", "--transactional-id", "bench-tx", "--transaction-records", "150",
                    "--json",
                ]
            )
            #expect(produce.status == 0, "\(produce.stderr)")
            #expect(produce.output.contains(#""records":1000,"#), "\(produce.output)")
            #expect(produce.output.contains(#""transaction_records":150"#), "\(produce.output)")
            for isolation in ["read_committed", "read_uncommitted"] {
                let consume = try await self.run(
                    self.tern,
                    ["bench", "consume", "-b", b, "--topic", "bench-tx", "--isolation-level", isolation, "--json"]
                )
                #expect(consume.status == 0, "\(consume.stderr)")
                #expect(consume.output.contains(#""records":1000,"#), "\(isolation): \(consume.output)")
            }
            // Each producer's 500 records went in 4 transactions, each ending in a commit marker
            // per partition it wrote: the logs hold more offsets than records.
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [b]))
            let partitions = try await admin.partitions(of: "bench-tx")
            let ends = try await admin.listOffsets(partitions, spec: .latest)
            await admin.close()
            #expect(ends.values.reduce(0, +) > 1000, "log end offsets \(ends)")
            let refused = try await self.run(self.tern, ["bench", "consume", "-b", b, "--isolation-level", "none"])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("--isolation-level must be read_uncommitted or read_committed"))
        }
    }

    /// `bench produce --keys N` keys the records with N keys in turn, so it can load a compacted
    /// topic (which refuses keyless records).
    @Test func benchProducesKeyedRecordsIntoACompactedTopic() async throws {
        try await withTernd { ternd in
            let b = ternd.bootstrap
            let created = try await self.run(
                self.tern,
                ["topic", "create", "-b", b, "bench-keys", "--config", "cleanup.policy=compact"]
            )
            #expect(created.status == 0, "\(created.stderr)")
            let produce = try await self.run(
                self.tern,
                [
                    "bench", "produce", "-b", b, "--topic", "bench-keys", "-n", "300", "-s", "16", "--keys", "7",
                    "--json",
                ]
            )
            #expect(produce.status == 0, "\(produce.stderr)")
            #expect(produce.output.contains(#""errors":0"#), "\(produce.output)")
            let keys = try await self.run(self.kcat, ["-b", b, "-C", "-t", "bench-keys", "-e", "-q", "-f", "%k\n"])
            let lines = keys.output.split(separator: "\n")
            #expect(lines.count == 300)
            #expect(Set(lines) == Set((0..<7).map { "key-\($0)" }))
            let keyless = try await self.run(
                self.tern,
                ["bench", "produce", "-b", b, "--topic", "bench-keys", "-n", "10", "-s", "16"]
            )
            #expect(keyless.status != 0, "a compacted topic took keyless records")
        }
    }

    @Test func benchAndDumpLog() async throws {
        try await withTernd { ternd in
            let b = ternd.bootstrap
            let bench = try await self.run(
                self.tern,
                ["bench", "produce", "-b", b, "--topic", "bench", "--records", "2000", "--record-size", "64", "--json"]
            )
            #expect(bench.status == 0, "\(bench.stderr)")
            #expect(bench.output.hasPrefix(#"{"bench":"produce","records":2000,"bytes":128000,"#))
            #expect(bench.output.contains(#""p99_ms":"#))
            #expect(bench.output.split(separator: "\n").count == 1)
            #expect(!bench.stderr.contains("summary"), "--json prints only the JSON object")
            // Not a terminal: plain progress lines on stderr, then the summary table; stdout keeps
            // the one key=value line.
            let plain = try await self.run(
                self.tern,
                [
                    "bench", "produce", "-b", b, "--topic", "bench-plain", "-n", "600", "-s", "16", "--rate", "1000",
                    "--progress-interval", "0.1",
                ]
            )
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(plain.output.hasPrefix("produce: records=600 bytes=9600 "))
            #expect(plain.output.split(separator: "\n").count == 1)
            let progressLines = plain.stderr.split(separator: "\n").filter { $0.hasPrefix("produce: ") }
            #expect(progressLines.count >= 2, "\(plain.stderr)")
            #expect(progressLines.first?.contains("/600 records (") == true)
            #expect(progressLines.first?.contains("ETA ") == true)
            #expect(plain.stderr.contains("produce summary\n  records             600\n"), "\(plain.stderr)")
            #expect(!plain.stderr.contains("\u{1B}["), "no terminal escapes in a pipe")
            // On a terminal (script(1) gives it one): a bar redrawn in place, with percent and ETA.
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/script") {
                let command = [
                    self.tern, "bench", "produce", "-b", b, "--topic", "bench-tty", "-n", "600", "-s", "16", "--rate",
                    "1000",
                ].joined(separator: " ")
                let tty = try await self.run("/usr/bin/script", ["-qec", command, "/dev/null"])
                #expect(tty.status == 0, "\(tty.output)")
                #expect(tty.output.contains("\r\u{1B}[Kproduce  [█"), "\(tty.stdout.debugText)")
                #expect(tty.output.contains("/600  "))
                #expect(tty.output.contains("% "))
                #expect(tty.output.contains("rec/s") && tty.output.contains("ETA "))
                #expect(tty.output.contains("produce: records=600 "))
                #expect(tty.output.contains("produce summary"))
            }
            let segment = ternd.dataDirectory.appendingPathComponent("bench-0/00000000000000000000.log").path
            let dump = try await self.run(self.tern, ["dump-log", segment])
            #expect(dump.status == 0, "\(dump.stderr)")
            #expect(dump.output.contains("isvalid: true"))
            #expect(dump.output.contains("no problems found"))
            let records = try await self.run(self.tern, ["dump-log", "--records", "--json", segment])
            #expect(records.output.split(separator: "\n").filter { $0.hasPrefix(#"{"offset":"#) }.count == 2000)
            let notAFile = try await self.run(self.tern, ["dump-log", "/nonexistent/00000000000000000000.log"])
            #expect(notAFile.status == 2)
        }
        // The indexes are written at a clean close: dump them from a stopped broker's directory.
        let ternd = try await TerndProcess.start()
        let big = try await self.run(
            self.tern,
            [
                "bench", "produce", "-b", ternd.bootstrap, "--topic", "big", "-n", "5000", "-s", "200", "--linger-ms",
                "0",
            ]
        )
        #expect(big.status == 0, "\(big.stderr)")
        try await ternd.stop()
        let partition = ternd.dataDirectory.appendingPathComponent("big-0")
        let index = try await self.run(
            self.tern,
            ["dump-log", partition.appendingPathComponent("00000000000000000000.index").path]
        )
        #expect(index.status == 0, "\(index.output)\(index.stderr)")
        #expect(index.output.contains("offset: "))
        #expect(index.output.contains("no problems found"))
        let time = try await self.run(
            self.tern,
            ["dump-log", "--json", partition.appendingPathComponent("00000000000000000000.timeindex").path]
        )
        #expect(time.status == 0, "\(time.output)\(time.stderr)")
        #expect(time.output.hasPrefix(#"{"timestamp":"#))
        try? FileManager.default.removeItem(at: ternd.dataDirectory)
    }
}

extension Data {
    var debugText: String {
        String(decoding: self, as: UTF8.self).unicodeScalars.map {
            $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0)
        }
        .joined()
    }
}
