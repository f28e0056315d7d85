import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONNECTION_STATES, type ConnectionState, type ConnectionStateParams } from '../../../extension/src/contract';
import { Commands } from '../../../extension/src/ids';
import {
  describeDiagnostics,
  describeFailure,
  describeRequestFailure,
  describeStatusBar,
  type ErrorKind,
  type StatusView,
} from '../../../extension/src/presentation';

const EXPECTED_ICONS: Record<ConnectionState, string> = {
  idle: '$(mic)',
  authenticating: '$(sync~spin)',
  connecting: '$(sync~spin)',
  connected: '$(mic-filled)',
  renewing: '$(sync~spin)',
  reconnecting: '$(sync~spin)',
  failed: '$(error)',
  closed: '$(debug-disconnect)',
};

const ERROR_KINDS: ErrorKind[] = ['auth', 'quota', 'network', 'media', 'device', 'protocol', 'config'];

function status(state: ConnectionState, extra: Partial<ConnectionStateParams> = {}): ConnectionStateParams {
  return { state, previous: 'idle', ...extra };
}

/** The status bar of a running sidecar in `state`. */
function view(state: ConnectionState, extra: Partial<ConnectionStateParams> = {}, talking = false): StatusView {
  return { status: status(state, extra), talking, sidecarStopped: undefined };
}

describe('describeStatusBar', () => {
  for (const state of CONNECTION_STATES) {
    it(`shows ${state} with its icon and name`, () => {
      const look = describeStatusBar(view(state));

      assert.equal(look.text, `${EXPECTED_ICONS[state]} VoicePilot: ${state}`);
      assert.match(look.tooltip, /^VoicePilot: /);
    });
  }

  it('colours failed as an error and reconnecting as a warning, nothing else', () => {
    const backgrounds = Object.fromEntries(
      CONNECTION_STATES.map((state) => [state, describeStatusBar(view(state)).background]),
    );

    assert.deepEqual(backgrounds, {
      idle: undefined,
      authenticating: undefined,
      connecting: undefined,
      connected: undefined,
      renewing: undefined,
      reconnecting: 'statusBarItem.warningBackground',
      failed: 'statusBarItem.errorBackground',
      closed: undefined,
    });
  });

  it('pushes to talk on click when connected, starts a conversation otherwise', () => {
    for (const state of CONNECTION_STATES) {
      const expected = state === 'connected' ? Commands.pushToTalk : Commands.startConversation;
      assert.equal(describeStatusBar(view(state)).command, expected, state);
    }
  });

  it('shows talking only while connected', () => {
    assert.equal(describeStatusBar(view('connected', {}, true)).text, '$(record) VoicePilot: talking');
    assert.equal(describeStatusBar(view('reconnecting', {}, true)).text, '$(sync~spin) VoicePilot: reconnecting');
  });

  it('puts the reason and the kind of error in the tooltip', () => {
    const look = describeStatusBar(view('failed', { reason: 'The key was refused (401).', errorKind: 'auth' }));

    assert.equal(
      look.tooltip,
      'VoicePilot: The conversation failed.\nThe key was refused (401).\nCause: sign-in problem.\nClick to start a conversation.',
    );
  });

  it('shows a stopped sidecar above any connection state, and restarts it on click', () => {
    const look = describeStatusBar({
      status: status('connected'),
      talking: true,
      sidecarStopped: 'It stopped 3 times within a minute.',
    });

    assert.deepEqual(look, {
      text: '$(error) VoicePilot: sidecar stopped',
      tooltip: 'VoicePilot: the sidecar is not running.\nIt stopped 3 times within a minute.\nClick to restart it.',
      background: 'statusBarItem.errorBackground',
      command: Commands.restartSidecar,
    });
  });
});

describe('describeFailure', () => {
  it('offers to set the key first when sign-in failed', () => {
    const failure = describeFailure(status('failed', { reason: 'The key was refused.', errorKind: 'auth' }));

    assert.equal(failure.message, 'VoicePilot: The key was refused. (sign-in problem)');
    assert.equal(failure.actions[0], 'setApiKey');
  });

  it('offers the settings for configuration and microphone problems', () => {
    assert.equal(describeFailure(status('failed', { errorKind: 'config' })).actions[0], 'openSettings');
    assert.equal(describeFailure(status('failed', { errorKind: 'device' })).actions[0], 'openSettings');
  });

  it('always offers the logs, and has a message without a reason', () => {
    for (const errorKind of [...ERROR_KINDS, undefined]) {
      const failure = describeFailure(status('failed', errorKind === undefined ? {} : { errorKind }));
      assert.ok(failure.actions.includes('showLogs'), String(errorKind));
    }
    assert.equal(describeFailure(status('failed')).message, 'VoicePilot: the conversation failed');
  });
});

describe('describeDiagnostics', () => {
  it('counts the passed checks and gives a next step only for the failed ones', () => {
    const view = describeDiagnostics([
      { name: 'Python', ok: true, detail: '3.12.3', nextStep: 'unused' },
      { name: 'API key', ok: false, detail: 'not set', nextStep: 'Run VoicePilot: Set API Key' },
    ]);

    assert.equal(view.title, 'VoicePilot diagnostics: 1 of 2 checks passed');
    assert.deepEqual(view.items, [
      { label: '$(pass) Python', description: '3.12.3', detail: undefined },
      { label: '$(error) API key', description: 'not set', detail: 'Next step: Run VoicePilot: Set API Key' },
    ]);
  });
});

describe('describeRequestFailure', () => {
  it("offers the fix for the error kind the sidecar put in the error's data", () => {
    const failure = describeRequestFailure('start a conversation', 'No API key for the openai profile.', {
      errorKind: 'auth',
      nextStep: 'Run VoicePilot: Set API Key.',
    });

    assert.deepEqual(failure, {
      message: 'VoicePilot could not start a conversation: No API key for the openai profile. Run VoicePilot: Set API Key.',
      actions: ['setApiKey', 'runDiagnostics', 'showLogs'],
    });
  });

  it('offers only the logs for an unclassified error, and never repeats the next step', () => {
    assert.deepEqual(describeRequestFailure('end the conversation', 'Connection got disposed.', undefined), {
      message: 'VoicePilot could not end the conversation: Connection got disposed.',
      actions: ['showLogs'],
    });
    assert.equal(
      describeRequestFailure('x', 'Bad key. Set a key.', { errorKind: 'mystery', nextStep: 'Set a key.' }).message,
      'VoicePilot could not x: Bad key. Set a key.',
    );
  });
});
