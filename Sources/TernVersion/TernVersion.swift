/// Tern's version, and the git commit the binary was built from (recorded at build time by
/// Plugins/GitCommitPlugin; "-dirty" when tracked files had uncommitted changes, "unknown" when
/// built outside a git checkout).
public enum TernVersion {
    public static let version = "0.1.0"
    public static let commit = gitCommit

    /// `0.1.0 (commit 1a2b3c4d5e6f)`.
    public static var text: String { "\(version) (commit \(commit))" }
}
