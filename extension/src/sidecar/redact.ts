// Keeps API keys out of the logs. Pure: no `vscode` import, unit-tested.

/** Matches a JSON `"apiKey": "…"` member (or `api_key`), however it is spaced or escaped. */
const API_KEY_MEMBER = /("api_?key"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

/** The text with the value of every `apiKey` member replaced, for the verbose JSON-RPC trace. */
export function redactSecrets(text: string): string {
  return text.replace(API_KEY_MEMBER, '$1"<redacted>"');
}
