// TernWire: see docs/architecture.md.
