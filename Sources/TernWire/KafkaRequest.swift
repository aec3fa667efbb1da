import NIOCore

extension KafkaRequest {
    /// The APIs this codec can decode.
    public static var supportedApiKeys: [ApiKey] { Self.servedApis.map(\.apiKey) }

    /// Decodes a request frame (without its size prefix): the header in the version its API calls
    /// for, then the body. Unknown APIs, versions outside the codec's range and malformed bytes
    /// throw; bytes after the body's last field are ignored, as Kafka ignores them.
    public static func decode(frame: ByteBuffer) throws(WireError) -> (header: RequestHeader, request: KafkaRequest) {
        let prefix = try RequestHeader.peekPrefix(frame)
        guard let versions = Self.versions(of: prefix.apiKey) else {
            throw WireError(.unknownApiKey, "API key \(prefix.apiKey.rawValue) is not supported")
        }
        guard versions.contains(prefix.apiVersion) else {
            throw WireError(.unsupportedVersion, "\(prefix.apiKey) v\(prefix.apiVersion) is outside \(versions)")
        }
        var body = frame
        let header = try RequestHeader(from: &body)
        return (header, try Self.decode(body: body, header: header))
    }
}
