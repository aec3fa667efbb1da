/// kcat's `-G` topic list: plain names, and `^regex` patterns matched against existing topics.
public enum TopicPatterns {
    /// Plain names stay; `^regex` names become the existing topics they match (internal ones
    /// excluded), in name order.
    public static func resolve(_ names: [String], existing: [String]) throws(CLIError) -> [String] {
        var result: [String] = []
        for name in names {
            guard name.hasPrefix("^") else {
                if !result.contains(name) { result.append(name) }
                continue
            }
            let regex: Regex<AnyRegexOutput>
            do {
                regex = try Regex(name)
            } catch {
                throw CLIError("Invalid topic regex \(name)")
            }
            for topic in existing.sorted() where !topic.hasPrefix("__") && !result.contains(topic) {
                if (try? regex.prefixMatch(in: topic)) != nil { result.append(topic) }
            }
        }
        if result.isEmpty { throw CLIError("No topics match \(names.joined(separator: " "))") }
        return result
    }

}
