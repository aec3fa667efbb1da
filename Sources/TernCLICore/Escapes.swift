/// kcat's two escape dialects, reproduced byte for byte (kcat 1.7.1 `kcat.c:parse_delim` and
/// `format.c:fmt_add`). They differ, and both have quirks users' scripts may rely on.
public enum Escapes {
    /// Delimiters (`-D`, `-K`): `\n`, `\t` and `\xNN…` (any number of hex digits, low byte kept).
    /// `\r` is *not* an escape here, although kcat's help lists it. Each round replaces the first
    /// `\n` in the whole string, else the first `\t`, else the first `\x`, exactly like kcat.
    public static func delimiter(_ text: String) throws(CLIError) -> [UInt8] {
        var bytes = Array(text.utf8)
        while true {
            if let at = find(bytes, [0x5C, 0x6E]) {  // \n
                bytes.replaceSubrange(at..<at + 2, with: [0x0A])
            } else if let at = find(bytes, [0x5C, 0x74]) {  // \t
                bytes.replaceSubrange(at..<at + 2, with: [0x09])
            } else if let at = find(bytes, [0x5C, 0x78]) {  // \x
                var end = at + 2
                var value: UInt64 = 0
                while end < bytes.count, let digit = hexValue(bytes[end]) {
                    value = value &* 16 &+ UInt64(digit)
                    end += 1
                }
                if end == at + 2 {
                    throw CLIError("Delimiter \(String(decoding: bytes[at...], as: UTF8.self)) expects hex number")
                }
                bytes.replaceSubrange(at..<end, with: [UInt8(truncatingIfNeeded: value)])
            } else {
                break
            }
        }
        // kcat keeps the delimiter as a C string: a NUL byte ends it.
        if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
        return bytes
    }

    /// Literal text in a `-f` format: `\t \n \r`, `\x` + a number in base 16, `\` + a number in
    /// C's base 0 (decimal, `0…` octal, `0x…` hex), any other `\c` is `c`. kcat parses the number
    /// only when it starts with a decimal digit, so `\xff` is `ff` while `\x0a` is a newline, and a
    /// resulting NUL byte ends the literal.
    public static func formatLiteral(_ text: some Collection<UInt8>) -> [UInt8] {
        let s = Array(text)
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            guard s[i] == 0x5C, i + 1 < s.count else {
                out.append(s[i])
                i += 1
                continue
            }
            i += 1
            switch s[i] {
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            default:
                var base = 0
                if s[i] == UInt8(ascii: "x") {
                    i += 1
                    base = 16
                    if i >= s.count {
                        // `\x` at the very end: kcat copies the terminating NUL, ending the text.
                        return out
                    }
                }
                if (0x30...0x39).contains(s[i]) {
                    let (value, length) = strtoul(s, from: i, base: base)
                    out.append(UInt8(truncatingIfNeeded: value))
                    i += max(length, 1) - 1
                } else {
                    out.append(s[i])
                }
            }
            i += 1
        }
        if let nul = out.firstIndex(of: 0) { out.removeSubrange(nul...) }
        return out
    }

    /// C `strtoul` on the digits at `start` (no sign or spaces, which cannot occur here as the first
    /// character is a decimal digit): returns the value and how many bytes it used.
    static func strtoul(_ s: [UInt8], from start: Int, base requested: Int) -> (UInt64, Int) {
        var i = start
        var base = requested
        if base == 0 || base == 16, i + 1 < s.count, s[i] == 0x30, s[i + 1] | 0x20 == UInt8(ascii: "x"),
            i + 2 < s.count, hexValue(s[i + 2]) != nil
        {
            base = 16
            i += 2
        } else if base == 0 {
            base = s[i] == 0x30 ? 8 : 10
        }
        var value: UInt64 = 0
        while i < s.count, let digit = hexValue(s[i]), digit < base {
            value = value &* UInt64(base) &+ UInt64(digit)
            i += 1
        }
        return (value, i - start)
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i..<i + needle.count].elementsEqual(needle) { return i }
        }
        return nil
    }
}
