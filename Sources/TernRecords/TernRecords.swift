// TernRecords: see docs/architecture.md.
