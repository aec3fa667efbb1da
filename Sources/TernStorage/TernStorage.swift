// TernStorage: see docs/architecture.md.
