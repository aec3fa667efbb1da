import Foundation
import Testing

/// The README's Swift quick start, as written: its `Package.swift` and `main.swift` blocks are
/// taken from README.md, built as a package next to a `tern` folder (a link to this repository, so
/// the path dependency `../tern` and `package: "tern"` are what a reader gets), and run against a
/// fresh ternd. The only change to the text is the broker's address.
///
/// Slow: the first build compiles the client and its dependencies (minutes on two cores). The build
/// directory is kept next to this test's own build products, so later runs only relink.
@Suite struct ReadmeExampleTests {
    static let swift: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/swift" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }()

    @Test(.enabled(if: swift != nil, "no swift toolchain on PATH: cannot build the README's example"))
    func swiftQuickStartPrintsItsRecordAndExits() async throws {
        let swift = try #require(Self.swift)
        let readme = try String(
            contentsOf: Paths.packageRoot.appendingPathComponent("README.md"),
            encoding: .utf8
        )
        let blocks = swiftCodeBlocks(in: readme)
        let manifests = blocks.filter { $0.hasPrefix("// swift-tools-version") }
        let programs = blocks.filter { $0.contains("import TernClient") }
        try #require(manifests.count == 1, "README.md needs one Package.swift block, has \(manifests.count)")
        try #require(programs.count == 1, "README.md needs one main.swift block, has \(programs.count)")

        let workspace = Paths.buildProducts.deletingLastPathComponent().appendingPathComponent("readme-example")
        let package = workspace.appendingPathComponent("hello-tern")
        let sources = package.appendingPathComponent("Sources/hello-tern")
        let files = FileManager.default
        try files.createDirectory(at: sources, withIntermediateDirectories: true)
        let clone = workspace.appendingPathComponent("tern")
        try? files.removeItem(at: clone)
        try files.createSymbolicLink(at: clone, withDestinationURL: Paths.packageRoot)
        try manifests[0].write(to: package.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        // The same dependency versions as this checkout, when it has resolved them: no network
        // lookups, and the build cache stays valid.
        let resolved = Paths.packageRoot.appendingPathComponent("Package.resolved")
        if files.fileExists(atPath: resolved.path) {
            try? files.removeItem(at: package.appendingPathComponent("Package.resolved"))
            try files.copyItem(at: resolved, to: package.appendingPathComponent("Package.resolved"))
        }

        try await withTernd { ternd in
            let address = "127.0.0.1:9092"
            try #require(programs[0].components(separatedBy: address).count == 3, "the example names \(address) twice")
            try programs[0].replacingOccurrences(of: address, with: ternd.bootstrap)
                .write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)
            let scratch = workspace.appendingPathComponent(".build")
            let build = try await runCommand(
                swift,
                ["build", "--package-path", package.path, "--scratch-path", scratch.path, "--product", "hello-tern"],
                timeout: .seconds(1800)
            )
            try #require(build.status == 0, "the README's package does not build:\n\(build.output)\n\(build.stderr)")
            let run = try await runCommand(
                scratch.appendingPathComponent("debug/hello-tern").path,
                [],
                timeout: .seconds(60)
            )
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.output == "0 signed up\n", "stderr: \(run.stderr)")
        }
    }

    /// The bodies of the ```swift fences, in order.
    private func swiftCodeBlocks(in markdown: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil {
                if line == "```swift" { current = [] }
            } else if line == "```" {
                blocks.append(current!.joined(separator: "\n") + "\n")
                current = nil
            } else {
                current!.append(line)
            }
        }
        return blocks
    }
}
