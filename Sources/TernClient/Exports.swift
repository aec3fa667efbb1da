// The types a user of the client handles, so that `import TernClient` is all it takes.
@_exported public import struct NIOCore.ByteBuffer
@_exported public import enum TernCompression.CompressionCodec
@_exported public import struct TernRecords.RecordHeader
@_exported public import enum TernScram.ScramMechanism
// ACLs and SCRAM users through `Admin` (Admin+Security.swift).
@_exported public import struct TernWire.AclBinding
@_exported public import struct TernWire.AclBindingFilter
@_exported public import enum TernWire.AclOperation
@_exported public import enum TernWire.AclPatternType
@_exported public import enum TernWire.AclPermission
@_exported public import enum TernWire.AclResourceType
@_exported public import struct TernWire.IsolationLevel
@_exported public import struct TernWire.KafkaErrorCode
