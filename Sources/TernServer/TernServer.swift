// TernServer: see docs/architecture.md.
