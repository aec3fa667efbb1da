/// kcat's `-s` pack-string deserializers (`format.c:unpack`), modelled on Python's
/// `struct.unpack`: `<`/`>` endianness, `b B h H i I q Q` integers, `c` one character, `s` the rest
/// as a string, `$` end of input, space prints a space.
///
/// One deliberate difference: kcat 1.7.1 byte-swaps for `<` and `>` alike on little-endian hosts,
/// so `<` reads big-endian there; Tern honours `<`. Big-endian (the default, and what kcat's help
/// recommends) is identical.
public struct PackFormat: Sendable, Equatable {
    public let tokens: [UInt8]

    static let valid = Set(" <>bBhHiIqQcs$".utf8)

    /// Checks the pack string like kcat's `pack_check`; `what` is "key" or "value".
    public init(_ text: String, what: String) throws(CLIError) {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { throw CLIError("\(what) pack-format must not be empty") }
        for byte in bytes where !Self.valid.contains(byte) {
            throw CLIError("Invalid token '\(Character(Unicode.Scalar(byte)))' in \(what) pack-format, see -s usage.")
        }
        self.tokens = bytes
    }

    /// Appends the unpacked text to `out`; on failure whatever was unpacked so far stays appended.
    public func unpack(_ data: [UInt8], what: String, into out: inout [UInt8]) throws(CLIError) {
        var position = 0
        var littleEndian = false

        func take(_ size: Int, _ token: UInt8) throws(CLIError) -> UInt64 {
            let remaining = data.count - position
            guard size <= remaining else {
                throw CLIError(
                    "\(what) truncated, expected \(size) bytes to unpack \(Character(Unicode.Scalar(token))) but only \(remaining) bytes remaining"
                )
            }
            var value: UInt64 = 0
            for i in 0..<size {
                let byte = UInt64(data[position + (littleEndian ? size - 1 - i : i)])
                value = value << 8 | byte
            }
            position += size
            return value
        }

        for token in self.tokens {
            switch token {
            case UInt8(ascii: " "): out.append(0x20)
            case UInt8(ascii: "<"): littleEndian = true
            case UInt8(ascii: ">"): littleEndian = false
            case UInt8(ascii: "b"): out += Array(String(Int8(truncatingIfNeeded: try take(1, token))).utf8)
            case UInt8(ascii: "B"): out += Array(String(UInt8(truncatingIfNeeded: try take(1, token))).utf8)
            case UInt8(ascii: "h"): out += Array(String(Int16(truncatingIfNeeded: try take(2, token))).utf8)
            case UInt8(ascii: "H"): out += Array(String(UInt16(truncatingIfNeeded: try take(2, token))).utf8)
            case UInt8(ascii: "i"): out += Array(String(Int32(truncatingIfNeeded: try take(4, token))).utf8)
            case UInt8(ascii: "I"): out += Array(String(UInt32(truncatingIfNeeded: try take(4, token))).utf8)
            case UInt8(ascii: "q"): out += Array(String(Int64(bitPattern: try take(8, token))).utf8)
            case UInt8(ascii: "Q"): out += Array(String(try take(8, token)).utf8)
            case UInt8(ascii: "c"):
                // kcat prints one byte without checking that one is left; Tern prints nothing then.
                if position < data.count {
                    out.append(data[position])
                    position += 1
                }
            case UInt8(ascii: "s"):
                out += data[position...]
                position = data.count
            case UInt8(ascii: "$"):
                let remaining = data.count - position
                if remaining > 0 {
                    throw CLIError("expected \(what) end-of-input, but \(remaining) bytes remaining")
                }
            default:
                preconditionFailure("pack string checked at init")
            }
        }
    }
}
