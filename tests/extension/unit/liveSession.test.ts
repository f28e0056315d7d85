import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeStat, LiveSession } from '../../../extension/src/conversation/liveSession';
import { MIC_BACK, MIC_GONE, SPEAKER_PAUSED } from '../fixtures';

const FLAGS = { muted: false, pushToTalk: false, dictating: false };

describe('LiveSession', () => {
  it('knows who talks: thinking after the user, speaking while the assistant answers', () => {
    const live = new LiveSession();
    live.onState({ state: 'connected', previous: 'connecting' }, 0);
    live.onTranscript({ role: 'user', itemId: 'a', text: 'go', final: false }, 10);
    assert.equal(live.activity(FLAGS).awaitingReply, false);
    live.onTranscript({ role: 'user', itemId: 'a', text: 'go to line twelve', final: true }, 20);
    assert.equal(live.activity(FLAGS).awaitingReply, true);
    live.onTranscript({ role: 'assistant', itemId: 'b', text: 'Done', final: false }, 30);
    assert.deepEqual(live.activity(FLAGS), { ...FLAGS, assistantSpeaking: true, awaitingReply: false });
    live.onTranscript({ role: 'assistant', itemId: 'b', text: 'Done.', final: true }, 40);
    assert.equal(live.activity(FLAGS).assistantSpeaking, false);
  });

  it('measures silence from the last sound, and only during a conversation', () => {
    const live = new LiveSession();
    assert.equal(live.silentForMs(100), undefined);
    live.onState({ state: 'connected', previous: 'connecting' }, 1000);
    const level = { inputDbfs: -60, outputDbfs: -90, micOpen: true, muted: false, assistantSpeaking: false };
    live.onAudioLevel(level, 3000);
    assert.equal(live.silentForMs(4000), 3000);
    live.onAudioLevel({ ...level, inputDbfs: -20 }, 5000);
    assert.equal(live.silentForMs(6000), 1000);
    live.onState({ state: 'closed', previous: 'connected' }, 7000);
    assert.equal(live.silentForMs(8000), undefined);
  });

  it('counts down to the next key renewal from the last one, and keeps the latest stats and errors', () => {
    const live = new LiveSession();
    live.onState({ state: 'connected', previous: 'connecting' }, 0);
    live.onDiagnostics({ stats: { sessionAgeS: 12, rttMs: 8 } }, 12_000);
    live.onDiagnostics({ message: 'key_renewed', stats: { expiresAt: 1 } }, 50_000);
    live.onDiagnostics({ message: 'The microphone went away.', errorKind: 'device' }, 51_000);

    assert.deepEqual(live.details(60_000, 50, 'mic'), { sessionAgeS: 12, nextKeyRenewalInS: 40, rttMs: 8, inputDevice: 'mic' });
    assert.deepEqual(live.recentErrors.map((error) => error.message), ['The microphone went away.']);
    assert.deepEqual(describeStat('rttMs', 8.25), { label: 'Round-trip time', value: '8.3 ms' });
    assert.equal(describeStat('framesSent', 3), undefined);
  });

  it("keeps each device's last state for the conversation, and lists its failures as recent errors", () => {
    const live = new LiveSession();
    let changes = 0;
    live.onChange(() => changes++);
    live.onState({ state: 'connected', previous: 'connecting' }, 0);
    live.onDeviceState(MIC_GONE, 1000);
    assert.deepEqual(live.deviceStates, { input: MIC_GONE });
    assert.deepEqual(live.recentErrors, [{ at: 1000, message: MIC_GONE.message, errorKind: 'device' }]);

    live.onDeviceState(MIC_BACK, 2000);
    assert.deepEqual(live.deviceStates, { input: MIC_BACK });
    assert.equal(live.recentErrors.length, 1); // a recovery is no error
    assert.equal(changes, 3); // one per notification

    live.onState({ state: 'closed', previous: 'connected' }, 3000);
    assert.deepEqual(live.deviceStates, {});
  });

  it('ignores a device state from a conversation that is over', () => {
    const live = new LiveSession();
    const gone = SPEAKER_PAUSED;
    live.onState({ state: 'failed', previous: 'connected', sessionId: 'vp_old', reason: 'Gave up.' }, 0);
    assert.equal(live.onDeviceState({ ...gone, sessionId: 'vp_old' }, 10), false); // came after its end
    live.onState({ state: 'authenticating', previous: 'idle', sessionId: 'vp_new' }, 20);
    assert.equal(live.onDeviceState({ ...gone, sessionId: 'vp_old' }, 30), false); // another conversation's
    assert.deepEqual(live.deviceStates, {});
    assert.equal(live.onDeviceState({ ...gone, sessionId: 'vp_new' }, 40), true);
    assert.deepEqual(live.deviceStates, { output: { ...gone, sessionId: 'vp_new' } });
    assert.deepEqual(
      live.recentErrors.map((error) => error.message),
      [SPEAKER_PAUSED.message, 'Gave up.'],
    );
  });
});
