// TernCompression: see docs/architecture.md.
