import TernBroker

extension KafkaServer.Configuration {
    /// The listener part of resolved broker settings (what ternd and TernTestKit serve with).
    public init(settings: BrokerSettings) {
        self.init(
            host: settings.host,
            port: settings.port,
            maximumRequestBytes: settings.maximumRequestBytes,
            connectionsMaxIdleMs: settings.connectionsMaxIdleMs,
            writeTimeoutMs: settings.socketWriteTimeoutMs,
            maximumConnections: settings.maximumConnections,
            maximumConnectionsPerAddress: settings.maximumConnectionsPerAddress,
            connectionsPerAddressOverrides: settings.connectionsPerAddressOverrides
        )
    }
}
