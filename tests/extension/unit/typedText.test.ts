import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SendTextParams, SendTextResult } from '../../../extension/src/sidecar/contract';
import {
  checkTypedText,
  MAX_TEXT_CHARS,
  offersTextFallback,
  sendTypedText,
  type TypedTextPort,
} from '../../../extension/src/commands/typedText';

function port(options: { connected?: boolean; typed?: string; accepted?: boolean }): TypedTextPort & {
  sent: SendTextParams[];
  told: string[];
} {
  const sent: SendTextParams[] = [];
  const told: string[] = [];
  return {
    sent,
    told,
    connected: () => options.connected ?? true,
    ask: () => Promise.resolve(options.typed),
    send: (params): Promise<SendTextResult | undefined> => {
      sent.push(params);
      return Promise.resolve(options.accepted === undefined ? undefined : { accepted: options.accepted });
    },
    tell: (message) => told.push(message),
  };
}

describe('Send Text Message', () => {
  it('sends the typed text, trimmed, to the running session', async () => {
    const fake = port({ typed: '  go to line 5 ', accepted: true });
    assert.equal(await sendTypedText(fake, 'vp_1'), 'sent');
    assert.deepEqual(fake.sent, [{ text: 'go to line 5', sessionId: 'vp_1' }]);
    assert.deepEqual(fake.told, []);
  });

  it('asks for nothing without a connected conversation', async () => {
    const fake = port({ connected: false, typed: 'hello', accepted: true });
    assert.equal(await sendTypedText(fake), 'notConnected');
    assert.deepEqual(fake.sent, []);
    assert.match(fake.told[0] ?? '', /Start a conversation first/);
  });

  it('sends nothing when the box is dismissed or blank', async () => {
    for (const typed of [undefined, '   ']) {
      const fake = port({ typed, accepted: true });
      assert.equal(await sendTypedText(fake), 'cancelled');
      assert.deepEqual(fake.sent, []);
    }
  });

  it('says so when the sidecar did not take it', async () => {
    for (const accepted of [false, undefined]) {
      const fake = port({ typed: 'hello', accepted });
      assert.equal(await sendTypedText(fake), 'refused');
      assert.equal(fake.told.length, 1);
    }
  });

  it('checks the text as the contract does', () => {
    assert.equal(checkTypedText('go to line 5'), undefined);
    assert.notEqual(checkTypedText(''), undefined);
    assert.notEqual(checkTypedText('x'.repeat(MAX_TEXT_CHARS + 1)), undefined);
    assert.equal(checkTypedText('x'.repeat(MAX_TEXT_CHARS)), undefined);
  });

  it('offers typing when startSession failed for want of an audio device only', () => {
    assert.equal(offersTextFallback({ errorKind: 'device', nextStep: 'Plug in a microphone.' }), true);
    for (const data of [{ errorKind: 'network' }, undefined, null, 'device', {}]) {
      assert.equal(offersTextFallback(data), false);
    }
  });
});
