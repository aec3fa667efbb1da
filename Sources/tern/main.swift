import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

// `tern <subcommand> …` runs the subcommands (ArgumentParser); anything else is a kcat command
// line, parsed with kcat's getopt rules.
let arguments = Array(CommandLine.arguments.dropFirst())
signal(SIGPIPE, SIG_IGN)
if let first = arguments.first, TernCommand.subcommandNames.contains(first) {
    StderrLogHandler.bootstrap(debug: false)
    await TernCommand.runSubcommand(arguments)
} else {
    let status = await KcatMain.run(arguments)
    OutputStream.standardOutput.flush()
    exit(status)
}
