"""The pygls sidecar: the JSON-RPC contract with the editor."""
