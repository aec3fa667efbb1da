import FoundationEssentials
import Testing

@testable import TernBroker
@testable import TernScram

@Suite struct ScramTests {
    // RFC 7677 §3: the SCRAM-SHA-256 exchange for user "user", password "pencil".
    static let salt = Array(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")!)
    static let clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    static let serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    static let credential = ScramCredential.make(password: "pencil", mechanism: .sha256, salt: salt, iterations: 4096)

    @Test func rfc7677ExchangeSucceeds() throws {
        var exchange = ScramServerExchange(mechanism: .sha256, serverNonce: Self.serverNonce)
        let first = try exchange.receiveClientFirst(Array(Self.clientFirst.utf8)) {
            $0 == "user" ? Self.credential : nil
        }
        .get()
        #expect(String(decoding: first, as: UTF8.self) == Self.serverFirst)
        let (final, user) = try exchange.receiveClientFinal(Array(Self.clientFinal.utf8)).get()
        #expect(String(decoding: final, as: UTF8.self) == Self.serverFinal)
        #expect(user == "user")
    }

    /// Tern's client side, on the same RFC 7677 exchange: byte for byte the RFC's messages.
    @Test func clientSideMatchesRfc7677() throws {
        var client = ScramClientExchange(
            mechanism: .sha256,
            user: "user",
            password: "pencil",
            clientNonce: "rOprNGfwEbeRWgbNEkqO"
        )
        #expect(String(decoding: client.clientFirst, as: UTF8.self) == Self.clientFirst)
        let final = try client.receiveServerFirst(Array(Self.serverFirst.utf8)).get()
        #expect(String(decoding: final, as: UTF8.self) == Self.clientFinal)
        #expect((try? client.receiveServerFinal(Array(Self.serverFinal.utf8)).get()) != nil)
        // A server that does not know the password cannot sign.
        guard case .failure = client.receiveServerFinal(Array("v=AAAA".utf8)) else {
            Issue.record("a wrong server signature was accepted")
            return
        }
    }

    /// Client and server exchanges against each other, for both mechanisms and a user name
    /// that needs escaping; a wrong password fails on the server.
    @Test(arguments: ScramMechanism.allCases)
    func clientAndServerAgree(mechanism: ScramMechanism) throws {
        let credential = ScramCredential.make(password: "s3cr=t", mechanism: mechanism, salt: Array("salt".utf8))
        for (password, succeeds) in [("s3cr=t", true), ("wrong", false)] {
            var client = ScramClientExchange(
                mechanism: mechanism,
                user: "a,b=c",
                password: password,
                clientNonce: "abc123"
            )
            var server = ScramServerExchange(mechanism: mechanism, serverNonce: "xyz789")
            let serverFirst = try server.receiveClientFirst(client.clientFirst) { $0 == "a,b=c" ? credential : nil }
                .get()
            let clientFinal = try client.receiveServerFirst(serverFirst).get()
            switch server.receiveClientFinal(clientFinal) {
            case .success(let (serverFinal, user)):
                #expect(succeeds && user == "a,b=c")
                #expect((try? client.receiveServerFinal(serverFinal).get()) != nil)
            case .failure:
                #expect(!succeeds)
            }
        }
    }

    /// librdkafka answers with its client nonce in front of the combined nonce; Kafka accepts any
    /// nonce that ends with the one it sent, so Tern does too — the proof is over what was sent.
    @Test func aClientNonceRepeatedInFrontIsAcceptedAsKafkaDoes() throws {
        var exchange = ScramServerExchange(mechanism: .sha256, serverNonce: Self.serverNonce)
        _ = try exchange.receiveClientFirst(Array(Self.clientFirst.utf8)) { _ in Self.credential }.get()
        let withoutProof = "c=biws,r=rOprNGfwEbeRWgbNEkqOrOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
        let salted = ScramMechanism.sha256.saltedPassword(Array("pencil".utf8), salt: Self.salt, iterations: 4096)
        let clientKey = ScramMechanism.sha256.hmac(key: salted, Array("Client Key".utf8))
        let authMessage = Array("n=user,r=rOprNGfwEbeRWgbNEkqO,\(Self.serverFirst),\(withoutProof)".utf8)
        let signature = ScramMechanism.sha256.hmac(key: ScramMechanism.sha256.hash(clientKey), authMessage)
        let proof = Data(zip(clientKey, signature).map { $0 ^ $1 }).base64EncodedString()
        let (_, user) = try exchange.receiveClientFinal(Array("\(withoutProof),p=\(proof)".utf8)).get()
        #expect(user == "user")
    }

    @Test(arguments: [
        // A proof made with another password (the RFC's proof with its first byte changed).
        ("wrong proof", clientFinal.replacingFirst("p=dHzb", with: "p=eHzb")),
        ("nonce mismatch", clientFinal.replacingFirst("r=rOpr", with: "r=xOpr")),
        ("channel binding required", clientFinal.replacingFirst("c=biws", with: "c=cD10bHMtdW5pcXVlLCw=")),
        ("no proof", "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"),
    ])
    func aBadClientFinalFails(label: String, message: String) throws {
        var exchange = ScramServerExchange(mechanism: .sha256, serverNonce: Self.serverNonce)
        _ = try exchange.receiveClientFirst(Array(Self.clientFirst.utf8)) { _ in Self.credential }.get()
        guard case .failure = exchange.receiveClientFinal(Array(message.utf8)) else {
            Issue.record("\(label) was accepted")
            return
        }
    }

    @Test(arguments: [
        "n,,n=nobody,r=abc",  // unknown user
        "p=tls-unique,,n=user,r=abc",  // channel binding required
        "n,,r=abc",  // no user
        "n,,n=us=er,r=abc",  // malformed saslname
        "garbage",
    ])
    func aBadClientFirstFails(message: String) {
        var exchange = ScramServerExchange(mechanism: .sha256, serverNonce: Self.serverNonce)
        let result = exchange.receiveClientFirst(Array(message.utf8)) { $0 == "user" ? Self.credential : nil }
        guard case .failure = result else {
            Issue.record("\(message) was accepted")
            return
        }
    }

    @Test func saslNamesDecodeCommasAndEquals() {
        #expect(ScramServerExchange.decodeSaslName("a=2Cb=3Dc") == "a,b=c")
        #expect(ScramServerExchange.decodeSaslName("a=2") == nil)
    }

    @Test func plainPasswordsAreCheckedAgainstTheSaltedCredential() throws {
        let store = try ScramCredentialStore(files: nil)
        try store.setPassword("secret", for: "alice")
        #expect(store.verify(user: "alice", password: "secret"))
        #expect(!store.verify(user: "alice", password: "Secret"))
        #expect(!store.verify(user: "bob", password: "secret"))
        // Each mechanism's credential has its own salt.
        let sha256 = try #require(store.credential(user: "alice", mechanism: .sha256))
        let sha512 = try #require(store.credential(user: "alice", mechanism: .sha512))
        #expect(sha256.salt != sha512.salt && sha512.storedKey.count == 64 && sha256.storedKey.count == 32)
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = self.firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }
}
