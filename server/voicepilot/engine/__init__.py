"""The local realtime engine: a loopback server that speaks the Azure OpenAI Realtime protocol."""
