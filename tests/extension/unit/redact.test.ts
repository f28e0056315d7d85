import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactSecrets } from '../../../extension/src/sidecar/redact';

describe('redactSecrets', () => {
  it('hides the key in a verbose trace of voicepilot/setCredentials', () => {
    const trace = 'Params: {\n    "apiKey": "sk-live-123"\n}\n\n';

    assert.equal(redactSecrets(trace), 'Params: {\n    "apiKey": "<redacted>"\n}\n\n');
  });

  it('hides the TURN password beside the key', () => {
    const trace = '{"apiKey":null,"turnCredential":"turn-secret-9"}';

    assert.equal(redactSecrets(trace), '{"apiKey":null,"turnCredential":"<redacted>"}');
  });

  it('hides keys however they are spelled, spaced or escaped, and nothing else', () => {
    const line = '{"api_key":"a\\"b","ApiKey" : "c","voice":"alloy"}';

    assert.equal(redactSecrets(line), '{"api_key":"<redacted>","ApiKey" : "<redacted>","voice":"alloy"}');
  });
});
