// The types a user of the client handles, so that `import TernClient` is all it takes.
@_exported public import struct NIOCore.ByteBuffer
@_exported public import enum TernCompression.CompressionCodec
@_exported public import struct TernRecords.RecordHeader
@_exported public import struct TernWire.KafkaErrorCode
