"""The editor contract: wire models, their TypeScript rendering, the editor tool declarations."""
