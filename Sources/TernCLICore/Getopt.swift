/// POSIX `getopt(3)` with glibc's argument permutation, the parser Debian's kcat runs on.
///
/// - Options are single letters; a letter followed by `:` in the option string takes an argument,
///   either attached (`-p1`) or as the next word (`-p 1`). Flags cluster (`-Ce`, `-Cep0`).
/// - Like glibc (without `POSIXLY_CORRECT`), words that are not options are set aside and parsing
///   goes on, so `-G g topic -e` still sees `-e`; the set-aside words come back as `operands` in
///   their original order. `--` ends option parsing; a lone `-` is an operand.
/// - A leading `:` in the option string (kcat's) only affects how errors are reported by the C
///   library; here errors are always returned as values, never printed.
public struct Getopt: Sendable {
    public struct Option: Equatable, Sendable {
        public var letter: Character
        public var argument: String?
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unknownOption(Character)
        case missingArgument(Character)

        public var description: String {
            switch self {
            case .unknownOption(let c): "unknown option -\(c)"
            case .missingArgument(let c): "option -\(c) requires an argument"
            }
        }
    }

    private let takesArgument: [Character: Bool]

    public init(_ optionString: String) {
        var table: [Character: Bool] = [:]
        var chars = Array(optionString)
        if chars.first == ":" { chars.removeFirst() }
        var index = 0
        while index < chars.count {
            let letter = chars[index]
            let hasArgument = index + 1 < chars.count && chars[index + 1] == ":"
            table[letter] = hasArgument
            index += hasArgument ? 2 : 1
        }
        self.takesArgument = table
    }

    /// Whether the word at `index` is the argument of the option before it (`-t` then `topic`).
    public func isOptionArgument(_ arguments: [String], at index: Int) -> Bool {
        var i = 0
        while i < index {
            let word = arguments[i]
            i += 1
            if word == "--" { return false }
            guard word.hasPrefix("-"), word.count > 1 else { continue }
            for (position, letter) in word.dropFirst().enumerated() where self.takesArgument[letter] == true {
                if position == word.count - 2 {
                    if i == index { return true }
                    i += 1
                }
                break
            }
        }
        return false
    }

    /// Parses `arguments` (without the program name).
    public func parse(_ arguments: [String]) throws(Failure) -> (options: [Option], operands: [String]) {
        var options: [Option] = []
        var operands: [String] = []
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            if word == "--" {
                operands.append(contentsOf: arguments[index...])
                break
            }
            guard word.hasPrefix("-"), word.count > 1 else {
                operands.append(word)
                continue
            }
            var letters = Substring(word).dropFirst()
            while let letter = letters.first {
                letters = letters.dropFirst()
                guard letter != ":", let hasArgument = self.takesArgument[letter] else {
                    throw .unknownOption(letter)
                }
                guard hasArgument else {
                    options.append(Option(letter: letter, argument: nil))
                    continue
                }
                if !letters.isEmpty {
                    options.append(Option(letter: letter, argument: String(letters)))
                } else if index < arguments.count {
                    options.append(Option(letter: letter, argument: arguments[index]))
                    index += 1
                } else {
                    throw .missingArgument(letter)
                }
                break
            }
        }
        return (options, operands)
    }
}
