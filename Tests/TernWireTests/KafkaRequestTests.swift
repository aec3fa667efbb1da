import NIOCore
import TernWire
import Testing

@Suite struct KafkaRequestTests {
    private func frameBody<M: KafkaRequestMessage>(_ message: M, version: Int16) -> ByteBuffer {
        var frame = ByteBuffer()
        message.writeFrame(to: &frame, version: version, correlationId: 17, clientId: "c")
        #expect(frame.readInteger(as: Int32.self) == Int32(frame.readableBytes))
        return frame
    }

    private func message(of request: KafkaRequest) -> any KafkaRequestMessage {
        switch request {
        case .produce(let m): m
        case .fetch(let m): m
        case .listOffsets(let m): m
        case .metadata(let m): m
        case .offsetCommit(let m): m
        case .offsetFetch(let m): m
        case .findCoordinator(let m): m
        case .joinGroup(let m): m
        case .heartbeat(let m): m
        case .leaveGroup(let m): m
        case .syncGroup(let m): m
        case .describeGroups(let m): m
        case .listGroups(let m): m
        case .apiVersions(let m): m
        case .createTopics(let m): m
        case .deleteTopics(let m): m
        case .initProducerId(let m): m
        case .describeConfigs(let m): m
        case .deleteGroups(let m): m
        case .offsetDelete(let m): m
        case .createPartitions(let m): m
        case .deleteRecords(let m): m
        case .describeCluster(let m): m
        case .offsetForLeaderEpoch(let m): m
        case .alterConfigs(let m): m
        case .incrementalAlterConfigs(let m): m
        case .describeLogDirs(let m): m
        case .describeTopicPartitions(let m): m
        case .describeProducers(let m): m
        case .listPartitionReassignments(let m): m
        case .electLeaders(let m): m
        case .describeClientQuotas(let m): m
        case .saslHandshake(let m): m
        case .saslAuthenticate(let m): m
        case .describeUserScramCredentials(let m): m
        case .alterUserScramCredentials(let m): m
        case .describeAcls(let m): m
        case .createAcls(let m): m
        case .deleteAcls(let m): m
        case .addPartitionsToTxn(let m): m
        case .addOffsetsToTxn(let m): m
        case .endTxn(let m): m
        case .txnOffsetCommit(let m): m
        case .describeTransactions(let m): m
        case .listTransactions(let m): m
        }
    }

    @Test func servesEveryListedApi() {
        #expect(KafkaRequest.servedApis.count == 45)
        #expect(KafkaRequest.supportedApiKeys == KafkaRequest.servedApis.map(\.apiKey))
        for (apiKey, versions) in KafkaRequest.servedApis {
            #expect(KafkaRequest.versions(of: apiKey) == versions)
        }
        #expect(KafkaRequest.versions(of: .leaderAndIsr) == nil)
    }

    @Test(arguments: MessageSample.all.filter { $0.full is any KafkaRequestMessage })
    func dispatchesEveryApiAtEveryVersion(_ sample: MessageSample) throws {
        func check<M: KafkaMessage>(_ full: M) throws {
            let request = try #require(full as? any KafkaRequestMessage)
            #expect(KafkaRequest.versions(of: M.apiKey) == M.versions)
            for version in M.versions {
                let decodedAtVersion = try M.decode(full.encoded(version: version), version: version)
                let body = frameBody(request, version: version)
                let (header, decoded) = try KafkaRequest.decode(frame: body)
                #expect(header.apiKey == M.apiKey && header.apiVersion == version && header.correlationId == 17)
                #expect(header.clientId == "c")
                #expect(decoded.apiKey == M.apiKey)
                #expect(message(of: decoded) as? M == decodedAtVersion, "\(M.self) v\(version)")
            }
        }
        try check(sample.full)
    }

    @Test func unknownApiAndUnsupportedVersionsAreErrors() {
        var unknown = ByteBuffer()
        RequestHeader(apiKey: ApiKey(rawValue: 1000), apiVersion: 0, correlationId: 1).write(to: &unknown)
        #expect(throws: WireError(.unknownApiKey, "")) { try KafkaRequest.decode(frame: unknown) }

        var tooNew = ByteBuffer()
        RequestHeader(apiKey: .produce, apiVersion: ProduceRequest.versions.upperBound + 1, correlationId: 1)
            .write(to: &tooNew)
        #expect(throws: WireError(.unsupportedVersion, "")) { try KafkaRequest.decode(frame: tooNew) }

        var negative = ByteBuffer()
        RequestHeader(apiKey: .fetch, apiVersion: -1, correlationId: 1, clientId: nil).write(to: &negative)
        #expect(throws: WireError(.unsupportedVersion, "")) { try KafkaRequest.decode(frame: negative) }

        #expect(throws: WireError(.truncated, "")) { try KafkaRequest.decode(frame: ByteBuffer(bytes: [0, 3])) }
    }

    /// Bytes after a request's last field are ignored, as Kafka's request parser ignores them
    /// (librdkafka 2.16 sends Metadata v12 with a v8-v10 field still in it); a body decoded on its
    /// own must still be exact.
    @Test func trailingBytesAfterARequestBodyAreIgnored() throws {
        let heartbeat = HeartbeatRequest(groupId: "g", generationId: 1, memberId: "m")
        var frame = frameBody(heartbeat, version: 1)
        frame.writeBytes([1, 2, 3])
        let (header, request) = try KafkaRequest.decode(frame: frame)
        #expect(header.apiKey == .heartbeat && header.apiVersion == 1)
        #expect(request == .heartbeat(heartbeat))

        var body = heartbeat.encoded(version: 1)
        body.writeInteger(UInt8(1))
        #expect(throws: WireError(.trailingBytes, "")) { try HeartbeatRequest.decode(body, version: 1) }
    }

    /// A response frame: size, header v0 or v1 as the API's version calls for, body.
    @Test func responseFramesUseTheApisHeaderVersion() throws {
        for version in FetchResponse.versions {
            let response = FetchResponse(throttleTimeMs: 3, sessionId: 9)
            var frame = ByteBuffer()
            response.writeFrame(to: &frame, version: version, correlationId: 5)
            #expect(frame.readInteger(as: Int32.self) == Int32(frame.readableBytes))
            #expect(frame.readInteger(as: Int32.self) == 5)
            if version >= 12 {
                #expect(frame.readInteger(as: UInt8.self) == 0, "empty header tagged fields")
            }
            #expect(
                try FetchResponse.decode(frame, version: version)
                    == FetchResponse.decode(response.encoded(version: version), version: version)
            )
        }
        // ApiVersions responses keep header v0 even in flexible versions.
        var frame = ByteBuffer()
        ApiVersionsResponse(errorCode: .none).writeFrame(to: &frame, version: 3, correlationId: 6)
        frame.moveReaderIndex(forwardBy: 8)
        #expect(try ApiVersionsResponse.decode(frame, version: 3) == ApiVersionsResponse(errorCode: .none))
    }
}
