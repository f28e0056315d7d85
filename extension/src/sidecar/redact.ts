// Keeps API keys and the TURN password out of the logs. Pure: no `vscode` import, unit-tested.

/** Matches a JSON `"apiKey": "…"` or `"turnCredential": "…"` member (or `api_key`, `turn_credential`),
 * however it is spaced or escaped. */
const API_KEY_MEMBER = /("(?:api_?key|turn_?credential)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

/** The text with the value of every `apiKey` member replaced, for the verbose JSON-RPC trace. */
export function redactSecrets(text: string): string {
  return text.replace(API_KEY_MEMBER, '$1"<redacted>"');
}
