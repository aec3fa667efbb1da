import Logging
import NIOCore
import Synchronization
import TernScram
import TernWire

/// SaslHandshake and SaslAuthenticate (KIP-43, KIP-152) on a SASL listener's connection. A failed
/// authentication is answered with Kafka's error, then the connection is closed, as Kafka does.
extension Broker {
    /// The requests of a connection whose `session` is not authenticated yet: nil for those
    /// served as usual (ApiVersions), a reply for the SASL ones, closing for anything else.
    func gateUnauthenticated(_ request: KafkaRequest, session: SaslSession, origin: RequestOrigin) -> BrokerReply? {
        switch request {
        case .apiVersions:
            return nil
        case .saslHandshake(let handshake):
            return self.saslHandshake(handshake, session: session, origin: origin)
        case .saslAuthenticate(let authenticate):
            return self.saslAuthenticate(authenticate, session: session, origin: origin)
        default:
            self.logger.info(
                "closing a SASL connection that sent a request before authenticating",
                metadata: ["remote": "\(origin.remoteAddress)", "clientId": "\(origin.clientId ?? "")"]
            )
            return .closeConnection(reason: "request before SASL authentication")
        }
    }

    /// The requests of an authenticated connection: a SaslHandshake starts a re-authentication
    /// (KIP-368), with the mechanism the connection authenticated with; once the authentication's
    /// lifetime has run out, anything but a re-authentication closes the connection, as Kafka does.
    /// nil: served as usual.
    func gateAuthenticated(_ request: KafkaRequest, session: SaslSession, origin: RequestOrigin) -> BrokerReply? {
        switch request {
        case .saslHandshake(let handshake):
            guard let user = session.user, let mechanism = session.mechanism.withLock({ $0 }) else { return nil }
            guard SaslMechanism(rawValue: handshake.mechanism.uppercased()) == mechanism else {
                self.logSaslFailure(origin, "re-authentication with \(handshake.mechanism), not \(mechanism.rawValue)")
                return self.finalReply(
                    SaslHandshakeResponse(errorCode: .unsupportedSaslMechanism, mechanisms: [mechanism.rawValue]),
                    origin
                )
            }
            session.lifetime.withLock { $0.reauthenticating = (user, mechanism) }
            session.state.withLock { $0 = .awaitingHandshake }
            return self.saslHandshake(handshake, session: session, origin: origin)
        case .saslAuthenticate:
            return nil
        default:
            guard session.hasExpired else { return nil }
            self.logger.info(
                "closing a SASL connection whose authentication expired (connections.max.reauth.ms)",
                metadata: ["remote": "\(origin.remoteAddress)", "clientId": "\(origin.clientId ?? "")"]
            )
            return .closeConnection(reason: "SASL authentication expired")
        }
    }

    private func saslHandshake(
        _ request: SaslHandshakeRequest,
        session: SaslSession,
        origin: RequestOrigin
    ) -> BrokerReply {
        let enabled = session.enabledMechanisms.map(\.rawValue)
        let mechanism = SaslMechanism(rawValue: request.mechanism.uppercased())
        let accepted = session.state.withLock { state -> Bool in
            guard case .awaitingHandshake = state, let mechanism, session.enabledMechanisms.contains(mechanism)
            else { return false }
            session.mechanism.withLock { $0 = mechanism }
            if let scram = mechanism.scram {
                state = .scram(
                    ScramServerExchange(mechanism: scram, serverNonce: makeScramNonce()),
                    sentServerFirst: false
                )
            } else {
                state = .awaitingPlain
            }
            return true
        }
        // v0 handshakes are followed by bare SASL tokens instead of SaslAuthenticate requests;
        // Tern serves only the framed exchange (every current client uses v1).
        guard accepted, origin.apiVersion >= 1 else {
            self.logSaslFailure(
                origin,
                origin.apiVersion < 1
                    ? "SaslHandshake v0 (bare tokens) is not supported" : "mechanism \(request.mechanism) not enabled"
            )
            return self.finalReply(
                SaslHandshakeResponse(errorCode: .unsupportedSaslMechanism, mechanisms: enabled),
                origin
            )
        }
        return self.reply(SaslHandshakeResponse(errorCode: .none, mechanisms: enabled), origin)
    }

    private func saslAuthenticate(
        _ request: SaslAuthenticateRequest,
        session: SaslSession,
        origin: RequestOrigin
    ) -> BrokerReply {
        let token = Array(request.authBytes.readableBytesView)
        enum Step {
            case challenge([UInt8])
            case authenticated(user: String, finalMessage: [UInt8])
            case failed(String)
        }
        let step = session.state.withLock { state -> Step in
            switch state {
            case .awaitingPlain:
                // [authzid] NUL authcid NUL passwd (RFC 4616).
                let parts = token.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { return .failed("malformed PLAIN message") }
                let authorizationId = String(decoding: parts[0], as: UTF8.self)
                let user = String(decoding: parts[1], as: UTF8.self)
                let password = String(decoding: parts[2], as: UTF8.self)
                guard authorizationId.isEmpty || authorizationId == user else {
                    return .failed("PLAIN authorization id \(authorizationId) differs from user \(user)")
                }
                guard self.credentials.verify(user: user, password: password) else {
                    return .failed("wrong password or unknown user \(user) (PLAIN)")
                }
                state = .authenticated(user: user)
                return .authenticated(user: user, finalMessage: [])
            case .scram(var exchange, let sentServerFirst):
                if !sentServerFirst {
                    let mechanism = exchange.mechanism
                    switch exchange.receiveClientFirst(
                        token,
                        credential: { user in
                            self.credentials.credential(user: user, mechanism: mechanism)
                        }
                    ) {
                    case .success(let serverFirst):
                        state = .scram(exchange, sentServerFirst: true)
                        return .challenge(serverFirst)
                    case .failure(let failure):
                        return .failed(failure.description)
                    }
                }
                switch exchange.receiveClientFinal(token) {
                case .success(let (serverFinal, user)):
                    state = .authenticated(user: user)
                    return .authenticated(user: user, finalMessage: serverFinal)
                case .failure(let failure):
                    return .failed(failure.description)
                }
            case .awaitingHandshake:
                return .failed("SaslAuthenticate before SaslHandshake")
            case .authenticated:
                return .failed("SaslAuthenticate after authentication")
            }
        }
        switch step {
        case .challenge(let bytes):
            return self.reply(SaslAuthenticateResponse(errorCode: .none, authBytes: ByteBuffer(bytes: bytes)), origin)
        case .authenticated(let user, let finalMessage):
            let lifetimeMs = self.configuration.connectionsMaxReauthMs
            let previous = session.lifetime.withLock { lifetime -> (String, SaslMechanism)? in
                defer {
                    lifetime.reauthenticating = nil
                    lifetime.expiresAt = lifetimeMs > 0 ? ContinuousClock.now + .milliseconds(lifetimeMs) : nil
                }
                return lifetime.reauthenticating
            }
            // KIP-368: a re-authentication may not change who the connection is.
            if let (previousUser, _) = previous, previousUser != user {
                self.logSaslFailure(origin, "re-authentication as \(user) on a connection of \(previousUser)")
                return self.finalReply(
                    SaslAuthenticateResponse(
                        errorCode: .saslAuthenticationFailed,
                        errorMessage: "Cannot change principals during re-authentication",
                        authBytes: ByteBuffer()
                    ),
                    origin
                )
            }
            self.logger.debug(
                previous == nil ? "SASL authentication succeeded" : "SASL re-authentication succeeded",
                metadata: ["user": "\(user)", "remote": "\(origin.remoteAddress)"]
            )
            return self.reply(
                SaslAuthenticateResponse(
                    errorCode: .none,
                    authBytes: ByteBuffer(bytes: finalMessage),
                    // v1+: the client re-authenticates before this runs out (0: never needed).
                    sessionLifetimeMs: lifetimeMs > 0 ? lifetimeMs : 0
                ),
                origin
            )
        case .failed(let reason):
            self.logSaslFailure(origin, reason)
            // Kafka's wording, which does not say whether the user exists.
            return self.finalReply(
                SaslAuthenticateResponse(
                    errorCode: .saslAuthenticationFailed,
                    errorMessage: "Authentication failed: Invalid username or password",
                    authBytes: ByteBuffer()
                ),
                origin
            )
        }
    }

    /// SaslHandshake or SaslAuthenticate outside an authentication (a non-SASL listener, or a
    /// connection already authenticated): ILLEGAL_SASL_STATE, as Kafka answers.
    func saslOutOfPlace(_ request: KafkaRequest, origin: RequestOrigin) -> BrokerReply? {
        switch request {
        case .saslHandshake:
            return self.reply(
                SaslHandshakeResponse(errorCode: .illegalSaslState, mechanisms: []),
                origin
            )
        case .saslAuthenticate:
            return self.reply(
                SaslAuthenticateResponse(
                    errorCode: .illegalSaslState,
                    errorMessage: "SaslAuthenticate outside a SASL authentication",
                    authBytes: ByteBuffer()
                ),
                origin
            )
        default:
            return nil
        }
    }

    private func logSaslFailure(_ origin: RequestOrigin, _ reason: String) {
        self.logger.warning(
            "SASL authentication failed; closing the connection",
            metadata: [
                "remote": "\(origin.remoteAddress)", "clientId": "\(origin.clientId ?? "")", "reason": "\(reason)",
            ]
        )
    }

    /// A response after which the connection is closed.
    private func finalReply<Response: KafkaResponseMessage>(_ response: Response, _ origin: RequestOrigin)
        -> BrokerReply
    {
        guard case .response(let bytes) = self.reply(response, origin) else { return .closeConnection(reason: "SASL") }
        return .responseThenClose(bytes)
    }
}
