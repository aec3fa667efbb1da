// TernBroker: see docs/architecture.md.
