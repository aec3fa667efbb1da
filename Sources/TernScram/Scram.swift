import Crypto
import CryptoExtras
import FoundationEssentials

/// SCRAM (RFC 5802) with SHA-256 and SHA-512 (RFC 7677), as Kafka's SCRAM-SHA-256 and
/// SCRAM-SHA-512 mechanisms use it: the server side of one exchange, and the salted credentials
/// the broker keeps instead of passwords. Pure: no I/O, the server nonce is given.
public enum ScramMechanism: String, Sendable, CaseIterable, Codable, CodingKeyRepresentable {
    case sha256 = "SCRAM-SHA-256"
    case sha512 = "SCRAM-SHA-512"

    /// Kafka's number for the mechanism in DescribeUserScramCredentials and
    /// AlterUserScramCredentials.
    public var kafkaCode: Int8 { self == .sha256 ? 1 : 2 }

    public init?(kafkaCode: Int8) {
        switch kafkaCode {
        case 1: self = .sha256
        case 2: self = .sha512
        default: return nil
        }
    }

    /// Kafka's minimum (and this broker's default) PBKDF2 iteration count.
    public static let minimumIterations = 4096

    public func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch self {
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }

    public func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: return Array(SHA256.hash(data: data))
        case .sha512: return Array(SHA512.hash(data: data))
        }
    }

    public func saltedPassword(_ password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let function: KDF.Insecure.PBKDF2.HashFunction = self == .sha256 ? .sha256 : .sha512
        let length = self == .sha256 ? 32 : 64
        // Throws only for parameters this type never passes (rounds below 1, a zero length).
        let key = try! KDF.Insecure.PBKDF2.deriveKey(
            from: password,
            salt: salt,
            using: function,
            outputByteCount: length,
            unsafeUncheckedRounds: iterations
        )
        return key.withUnsafeBytes { Array($0) }
    }
}

/// What the broker stores for one user and mechanism: never the password.
public struct ScramCredential: Sendable, Equatable, Codable {
    public var salt: [UInt8]
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]
    public var iterations: Int

    /// The credential for `password` (SaltedPassword, then ClientKey → StoredKey and ServerKey).
    public static func make(
        password: String,
        mechanism: ScramMechanism,
        salt: [UInt8],
        iterations: Int = ScramMechanism.minimumIterations
    ) -> ScramCredential {
        self.make(
            saltedPassword: mechanism.saltedPassword(Array(password.utf8), salt: salt, iterations: iterations),
            mechanism: mechanism,
            salt: salt,
            iterations: iterations
        )
    }

    /// A fresh salt of 32 random bytes, for a new credential.
    public static func randomSalt() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The credential from a SaltedPassword a client computed (AlterUserScramCredentials).
    public static func make(
        saltedPassword salted: [UInt8],
        mechanism: ScramMechanism,
        salt: [UInt8],
        iterations: Int
    ) -> ScramCredential {
        let clientKey = mechanism.hmac(key: salted, Array("Client Key".utf8))
        return ScramCredential(
            salt: salt,
            storedKey: mechanism.hash(clientKey),
            serverKey: mechanism.hmac(key: salted, Array("Server Key".utf8)),
            iterations: iterations
        )
    }

    /// Whether `password` is the one this credential was made from (SASL/PLAIN checks passwords
    /// this way, so no password is stored for it either). Constant time in the comparison.
    public func matches(password: String, mechanism: ScramMechanism) -> Bool {
        let other = Self.make(password: password, mechanism: mechanism, salt: self.salt, iterations: self.iterations)
        return constantTimeEqual(other.storedKey, self.storedKey)
    }
}

/// Why an authentication failed; the message is for the log, clients get Kafka's generic one.
public struct SaslFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The server side of one SCRAM exchange: client-first → server-first, client-final →
/// server-final (or a failure).
public struct ScramServerExchange: Sendable {
    private enum State: Sendable {
        case awaitingClientFirst
        case awaitingClientFinal(user: String, nonce: String, authMessagePrefix: String, credential: ScramCredential)
        case done
    }

    public let mechanism: ScramMechanism
    private let serverNonce: String
    private var state = State.awaitingClientFirst

    /// `serverNonce`: printable ASCII without commas, fresh per exchange (RFC 5802 §5.1).
    public init(mechanism: ScramMechanism, serverNonce: String) {
        self.mechanism = mechanism
        self.serverNonce = serverNonce
    }

    /// Parses client-first-message and answers server-first-message. A user without a
    /// credential fails here (Kafka, too, answers unknown users with a failure).
    public mutating func receiveClientFirst(
        _ message: [UInt8],
        credential lookup: (String) -> ScramCredential?
    ) -> Result<[UInt8], SaslFailure> {
        guard case .awaitingClientFirst = self.state else { return .failure(SaslFailure("unexpected client-first")) }
        self.state = .done
        let text = String(decoding: message, as: UTF8.self)
        // gs2-header: no channel binding ("n") or client supports it but thinks the server does
        // not ("y"); "p=" (binding required) is refused as Kafka refuses it.
        let parts = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "n" || parts[0] == "y" else {
            return .failure(SaslFailure("unsupported or malformed GS2 header in client-first-message"))
        }
        let bare = String(parts[2])
        let attributes = scramAttributes(bare)
        guard let encodedUser = attributes["n"], let clientNonce = attributes["r"], !clientNonce.isEmpty else {
            return .failure(SaslFailure("client-first-message without n= or r="))
        }
        guard let user = Self.decodeSaslName(encodedUser) else {
            return .failure(SaslFailure("malformed user name in client-first-message"))
        }
        guard let credential = lookup(user) else {
            return .failure(SaslFailure("unknown user \(user) for \(self.mechanism.rawValue)"))
        }
        let nonce = clientNonce + self.serverNonce
        let serverFirst = "r=\(nonce),s=\(Data(credential.salt).base64EncodedString()),i=\(credential.iterations)"
        self.state = .awaitingClientFinal(
            user: user,
            nonce: nonce,
            authMessagePrefix: bare + "," + serverFirst,
            credential: credential
        )
        return .success(Array(serverFirst.utf8))
    }

    /// Checks client-final-message's proof; on success answers server-final-message and names the
    /// authenticated user.
    public mutating func receiveClientFinal(_ message: [UInt8]) -> Result<
        (serverFinal: [UInt8], user: String), SaslFailure
    > {
        guard case .awaitingClientFinal(let user, let nonce, let prefix, let credential) = self.state else {
            return .failure(SaslFailure("unexpected client-final"))
        }
        self.state = .done
        let text = String(decoding: message, as: UTF8.self)
        // The proof is the last attribute: everything before ",p=" is client-final-without-proof.
        let bytes = Array(text.utf8)
        guard
            let proofAt = (0..<max(0, bytes.count - 2)).reversed().first(where: { bytes[$0..<$0 + 3] == [44, 112, 61] })
        else {
            return .failure(SaslFailure("client-final-message without a proof"))
        }
        let withoutProof = String(decoding: bytes[..<proofAt], as: UTF8.self)
        let encodedProof = String(decoding: bytes[(proofAt + 3)...], as: UTF8.self)
        let attributes = scramAttributes(withoutProof)
        // Kafka accepts any nonce that ends with the one it sent: librdkafka repeats its client
        // nonce in front of the combined one. The proof covers the message either way.
        guard let echoedNonce = attributes["r"], echoedNonce.hasSuffix(nonce) else {
            return .failure(SaslFailure("client-final-message nonce does not match the server's"))
        }
        guard let binding = attributes["c"], let bindingBytes = Data(base64Encoded: binding),
            bindingBytes.starts(with: Array("n,".utf8)) || bindingBytes.starts(with: Array("y,".utf8))
        else {
            return .failure(SaslFailure("unsupported channel binding"))
        }
        guard let proof = Data(base64Encoded: encodedProof).map(Array.init),
            proof.count == credential.storedKey.count
        else {
            return .failure(SaslFailure("malformed proof"))
        }
        let authMessage = Array((prefix + "," + withoutProof).utf8)
        let clientSignature = self.mechanism.hmac(key: credential.storedKey, authMessage)
        let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
        guard constantTimeEqual(self.mechanism.hash(clientKey), credential.storedKey) else {
            return .failure(SaslFailure("wrong password for \(user) (\(self.mechanism.rawValue))"))
        }
        let serverSignature = self.mechanism.hmac(key: credential.serverKey, authMessage)
        return .success((Array("v=\(Data(serverSignature).base64EncodedString())".utf8), user))
    }

    /// saslname: `=2C` is `,` and `=3D` is `=`; any other `=` is malformed.
    public static func decodeSaslName(_ name: String) -> String? {
        var result = ""
        var index = name.startIndex
        while index < name.endIndex {
            if name[index] == "=" {
                let code = name[name.index(after: index)...].prefix(2)
                switch code {
                case "2C": result.append(",")
                case "3D": result.append("=")
                default: return nil
                }
                index = name.index(index, offsetBy: 3)
            } else {
                result.append(name[index])
                index = name.index(after: index)
            }
        }
        return result
    }
}

/// SCRAM's `k=v,k=v` attributes (later duplicates win; values may contain `=`).
func scramAttributes(_ text: String) -> [String: String] {
    var attributes: [String: String] = [:]
    for part in text.split(separator: ",") {
        guard let equals = part.firstIndex(of: "="), part.distance(from: part.startIndex, to: equals) == 1 else {
            continue
        }
        attributes[String(part[..<equals])] = String(part[part.index(after: equals)...])
    }
    return attributes
}

/// A nonce for either side: 24 random bytes, base64 (printable, no commas).
public func makeScramNonce() -> String {
    var generator = SystemRandomNumberGenerator()
    return Data((0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
}

public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}

/// The client side of one SCRAM exchange: client-first, then client-final from the server's
/// first message, then a check of the server's signature (so a broker that does not know the
/// password cannot pretend it does).
public struct ScramClientExchange: Sendable {
    public let mechanism: ScramMechanism
    private let user: String
    private let password: String
    private let clientNonce: String
    private var expectedServerSignature: [UInt8]?

    /// `clientNonce`: printable ASCII without commas, fresh per exchange.
    public init(mechanism: ScramMechanism, user: String, password: String, clientNonce: String) {
        self.mechanism = mechanism
        self.user = user
        self.password = password
        self.clientNonce = clientNonce
    }

    private var clientFirstBare: String {
        // saslname: `=` and `,` escaped as =3D and =2C.
        var name = ""
        for character in self.user {
            switch character {
            case "=": name += "=3D"
            case ",": name += "=2C"
            default: name.append(character)
            }
        }
        return "n=\(name),r=\(self.clientNonce)"
    }

    /// client-first-message, without channel binding.
    public var clientFirst: [UInt8] { Array("n,,\(self.clientFirstBare)".utf8) }

    /// client-final-message for the server's first message, or why it is unacceptable.
    public mutating func receiveServerFirst(_ message: [UInt8]) -> Result<[UInt8], SaslFailure> {
        let text = String(decoding: message, as: UTF8.self)
        let attributes = scramAttributes(text)
        if attributes["m"] != nil { return .failure(SaslFailure("the server asks for an unsupported SCRAM extension")) }
        guard let nonce = attributes["r"], nonce.hasPrefix(self.clientNonce), nonce.count > self.clientNonce.count
        else {
            return .failure(SaslFailure("the server's nonce does not extend the client's"))
        }
        guard let encodedSalt = attributes["s"], let salt = Data(base64Encoded: encodedSalt), !salt.isEmpty else {
            return .failure(SaslFailure("server-first-message without a salt"))
        }
        guard let iterationText = attributes["i"], let iterations = Int(iterationText),
            (ScramMechanism.minimumIterations...1_000_000).contains(iterations)
        else {
            return .failure(SaslFailure("server-first-message with an unacceptable iteration count"))
        }
        let salted = self.mechanism.saltedPassword(Array(self.password.utf8), salt: Array(salt), iterations: iterations)
        let clientKey = self.mechanism.hmac(key: salted, Array("Client Key".utf8))
        let storedKey = self.mechanism.hash(clientKey)
        let withoutProof = "c=biws,r=\(nonce)"
        let authMessage = Array("\(self.clientFirstBare),\(text),\(withoutProof)".utf8)
        let clientSignature = self.mechanism.hmac(key: storedKey, authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = self.mechanism.hmac(key: salted, Array("Server Key".utf8))
        self.expectedServerSignature = self.mechanism.hmac(key: serverKey, authMessage)
        return .success(Array("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8))
    }

    /// Checks server-final-message: the server's signature, or its error.
    public func receiveServerFinal(_ message: [UInt8]) -> Result<Void, SaslFailure> {
        let text = String(decoding: message, as: UTF8.self)
        if text.hasPrefix("e=") { return .failure(SaslFailure("the server refused: \(text.dropFirst(2))")) }
        guard let expected = self.expectedServerSignature, text.hasPrefix("v="),
            let signature = Data(base64Encoded: String(text.dropFirst(2))),
            constantTimeEqual(Array(signature), expected)
        else {
            return .failure(SaslFailure("the server's signature does not match: it does not know the password"))
        }
        return .success(())
    }
}
