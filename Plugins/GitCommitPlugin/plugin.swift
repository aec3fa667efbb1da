import Foundation
import PackagePlugin

/// Records the git commit the sources were built from, for `tern --version` and `ternd --version`.
/// A prebuild command runs before every build, so the commit is never stale; it rewrites the file
/// only when the commit (or whether tracked files have uncommitted changes) changed, so an
/// unchanged tree rebuilds nothing. Without git or a repository (a source tarball) the commit
/// reads "unknown". Needs no network.
@main
struct GitCommitPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "GeneratedSources")
        let script = #"""
            set -u
            mkdir -p "$2"
            commit=$(git -C "$1" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
            if [ "$commit" != unknown ] && [ -n "$(git -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
                commit="$commit-dirty"
            fi
            text="let gitCommit = \"$commit\""
            file="$2/GitCommit.swift"
            if [ ! -f "$file" ] || [ "$(cat "$file")" != "$text" ]; then printf '%s\n' "$text" > "$file"; fi
            """#
        return [
            .prebuildCommand(
                displayName: "Recording the git commit for --version",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "sh", context.package.directoryURL.path, output.path],
                outputFilesDirectory: output
            )
        ]
    }
}
