/// `ssl.principal.mapping.rules` (KIP-371): turns the distinguished name of a client
/// certificate's subject (RFC 2253 form, `CN=alice,OU=eng,O=Acme`) into the user name of the
/// connection's principal (`User:NAME`), as Kafka's `SslPrincipalMapper` does.
///
/// Rules are tried in order, separated by commas or newlines:
/// - `RULE:pattern/replacement/` — when the regular expression matches the whole name, the name
///   becomes the replacement, in which `$1`… are the pattern's groups; a trailing `L` or `U`
///   (`/…/L`) lower- or upper-cases the result. `\/` writes a `/` in the pattern or replacement.
/// - `DEFAULT` — the name as it is.
/// A name no rule matches has no principal: the connection is refused. The default rules are
/// `DEFAULT`. Pure: no I/O.
public struct SslPrincipalMapper: Sendable, Equatable {
    public enum Rule: Sendable, Equatable {
        case `default`
        case pattern(String, replacement: String, caseChange: CaseChange?)
    }

    public enum CaseChange: Sendable, Equatable {
        case lower, upper
    }

    public struct InvalidRules: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public let rules: [Rule]

    public static let `default` = SslPrincipalMapper(validatedRules: [.default])

    private init(validatedRules: [Rule]) {
        self.rules = validatedRules
    }

    /// Parses the property's value; throws on a rule that is neither `DEFAULT` nor a complete
    /// `RULE:pattern/replacement/[LU]`, or whose pattern is not a valid regular expression.
    public init(rules text: String) throws(InvalidRules) {
        var rules: [Rule] = []
        var rest = Substring(text)
        func skip(_ characters: Set<Character>) {
            while let first = rest.first, characters.contains(first) { rest.removeFirst() }
        }
        /// Reads up to the next `/` not escaped by a backslash; `\/` becomes `/`.
        func readPart(_ what: String, of rule: String) throws(InvalidRules) -> String {
            var part = ""
            while let character = rest.first {
                rest.removeFirst()
                if character == "/" { return part }
                if character == "\\", let next = rest.first {
                    rest.removeFirst()
                    part += next == "/" ? "/" : "\\\(next)"
                } else {
                    part.append(character)
                }
            }
            throw InvalidRules(description: "ssl.principal.mapping.rules: \(rule) has no closing / after its \(what)")
        }
        while true {
            skip([" ", "\t", "\n", ","])
            if rest.isEmpty { break }
            if rest.hasPrefix("DEFAULT") {
                rest.removeFirst("DEFAULT".count)
                rules.append(.default)
            } else if rest.hasPrefix("RULE:") {
                let start = rest
                rest.removeFirst("RULE:".count)
                let pattern = try readPart("pattern", of: String(start.prefix(40)))
                let replacement = try readPart("replacement", of: String(start.prefix(40)))
                var caseChange: CaseChange?
                if rest.first == "L" || rest.first == "U" {
                    caseChange = rest.removeFirst() == "L" ? .lower : .upper
                }
                do {
                    _ = try Regex(pattern)
                } catch {
                    throw InvalidRules(
                        description: "ssl.principal.mapping.rules: \(pattern) is not a regular expression"
                    )
                }
                rules.append(.pattern(pattern, replacement: replacement, caseChange: caseChange))
            } else {
                let rule = rest.prefix { $0 != "," && $0 != "\n" }
                throw InvalidRules(
                    description: "ssl.principal.mapping.rules: \(rule) is not DEFAULT or RULE:pattern/replacement/[LU]"
                )
            }
            skip([" ", "\t"])
            guard rest.isEmpty || rest.first == "," || rest.first == "\n" else {
                let rule = rest.prefix { $0 != "," && $0 != "\n" }
                throw InvalidRules(description: "ssl.principal.mapping.rules: unexpected \(rule) after a rule")
            }
        }
        self.rules = rules
    }

    /// The user name for `distinguishedName`, or nil when no rule matches it.
    public func userName(forDistinguishedName distinguishedName: String) -> String? {
        for rule in self.rules {
            switch rule {
            case .default:
                return distinguishedName
            case .pattern(let pattern, let replacement, let caseChange):
                guard let regex = try? Regex(pattern),
                    let match = try? regex.wholeMatch(in: distinguishedName)
                else { continue }
                var result = Self.substitute(replacement, match)
                switch caseChange {
                case .lower: result = result.lowercased()
                case .upper: result = result.uppercased()
                case nil: break
                }
                return result
            }
        }
        return nil
    }

    /// `$n` is group n of the match (Java's replacement syntax); `\x` is x.
    private static func substitute(_ replacement: String, _ match: Regex<AnyRegexOutput>.Match) -> String {
        var result = ""
        var characters = Substring(replacement)
        while let character = characters.first {
            characters.removeFirst()
            if character == "\\", let next = characters.first {
                characters.removeFirst()
                result.append(next)
            } else if character == "$", let digit = characters.first, let group = digit.wholeNumberValue {
                characters.removeFirst()
                if group < match.output.count, let captured = match.output[group].substring {
                    result += captured
                }
            } else {
                result.append(character)
            }
        }
        return result
    }
}
