import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONNECTION_STATES,
  type ConnectionState,
  type ConnectionStateParams,
  type DeviceStateParams,
} from '../../../extension/src/sidecar/contract';
import { Commands } from '../../../extension/src/ids';
import { QUIET_ACTIVITY as QUIET, type ConversationActivity, type ErrorKind } from '../../../extension/src/conversation/activity';
import { MIC_BACK, MIC_GONE, SPEAKER_PAUSED } from '../fixtures';
import {
  describeDevices,
  describeDeviceNotice,
  describeDiagnostics,
  describeFailure,
  describeRequestFailure,
  describeStatusBar,
  TOOLS_OFF_LINE,
  FAILURE_ACTION_LABELS,
  formatDuration,
  SHORT_STATES,
  shortStateOf,
  type ShortState,
  type StatusView,
} from '../../../extension/src/views/presentation';

const ERROR_KINDS: ErrorKind[] = ['auth', 'quota', 'network', 'media', 'device', 'protocol', 'config'];

function status(state: ConnectionState, extra: Partial<ConnectionStateParams> = {}): ConnectionStateParams {
  return { state, previous: 'idle', ...extra };
}

/** The status bar of a running sidecar in `state`. */
function view(
  state: ConnectionState,
  extra: Partial<ConnectionStateParams> = {},
  talking = false,
  activity: Partial<ConversationActivity> = {},
): StatusView {
  return { status: status(state, extra), talking, sidecarStopped: undefined, activity: { ...QUIET, ...activity } };
}

const EXPECTED_SHORT: Record<ConnectionState, ShortState> = {
  idle: 'idle',
  authenticating: 'connecting',
  connecting: 'connecting',
  connected: 'listening',
  renewing: 'listening',
  reconnecting: 'reconnecting',
  failed: 'error',
  closed: 'idle',
};

describe('describeStatusBar', () => {
  for (const state of CONNECTION_STATES) {
    it(`shows ${state} as ${EXPECTED_SHORT[state]}`, () => {
      const look = describeStatusBar(view(state));

      assert.equal(look.shortState, EXPECTED_SHORT[state]);
      assert.match(look.text, new RegExp(`^\\$\\([a-z~-]+\\) ${EXPECTED_SHORT[state]}$`));
      assert.match(look.tooltip, new RegExp(`^VoicePilot: ${EXPECTED_SHORT[state]}`));
    });
  }

  it('says in Restricted Mode that the tools are off, keeping the first line for the state', () => {
    const look = describeStatusBar({ ...view('idle'), toolsOff: true });
    assert.equal(look.text, '$(mic) idle $(workspace-untrusted)');
    assert.match(look.tooltip, /^VoicePilot: idle\n/);
    assert.ok(look.tooltip.includes(TOOLS_OFF_LINE));
    assert.ok(!describeStatusBar(view('idle')).tooltip.includes(TOOLS_OFF_LINE));
  });

  it('uses every short state: thinking after the user spoke, speaking while the assistant does', () => {
    assert.equal(describeStatusBar(view('connected', {}, false, { awaitingReply: true })).text, '$(loading~spin) thinking');
    assert.equal(describeStatusBar(view('connected', {}, false, { assistantSpeaking: true })).text, '$(unmute) speaking');
    assert.equal(describeStatusBar(view('connected', {}, true, { pushToTalk: true, awaitingReply: true })).shortState, 'listening');
    const seen = new Set(
      [
        ...CONNECTION_STATES.map((state) => view(state)),
        view('connected', {}, false, { awaitingReply: true }),
        view('connected', {}, false, { assistantSpeaking: true }),
      ].map((candidate) => shortStateOf(candidate)),
    );
    assert.deepEqual([...seen].sort(), [...SHORT_STATES].sort());
  });

  it('colours error as an error and reconnecting as a warning, nothing else', () => {
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

  it('toggles talking on click in every state of a running sidecar', () => {
    for (const state of CONNECTION_STATES) {
      assert.equal(describeStatusBar(view(state)).command, Commands.pushToTalk, state);
    }
    assert.match(describeStatusBar(view('idle')).tooltip, /Click to start a conversation\.$/);
    assert.match(describeStatusBar(view('connected', {}, false, { pushToTalk: true })).tooltip, /Click to talk\.$/);
    assert.match(describeStatusBar(view('connected', {}, true, { pushToTalk: true })).tooltip, /click again when you are done\.$/);
    assert.match(describeStatusBar(view('connected')).tooltip, /Click to end the conversation\.$/);
  });

  it('puts state, session age, next key renewal, round trip and input device in the tooltip', () => {
    const look = describeStatusBar({
      ...view('connected'),
      details: { sessionAgeS: 65, nextKeyRenewalInS: 35.4, rttMs: 12.4, inputDevice: 'USB mic' },
    });

    assert.equal(
      look.tooltip,
      [
        'VoicePilot: listening',
        'In a conversation.',
        'Session age: 1 min 05 s',
        'Next key renewal: in 35 s',
        'Round trip: 12 ms',
        'Input: USB mic',
        'Click to end the conversation.',
      ].join('\n'),
    );
  });

  it('shows a muted microphone and a dictation', () => {
    const look = describeStatusBar(view('connected', {}, false, { muted: true, dictating: true }));
    assert.equal(look.text, '$(circle-slash) listening');
    assert.match(look.tooltip, /^VoicePilot: listening \(dictation\), microphone muted/);
  });

  it('puts the reason and the kind of error in the tooltip', () => {
    const look = describeStatusBar(view('failed', { reason: 'The key was refused (401).', errorKind: 'auth' }));

    assert.equal(
      look.tooltip,
      'VoicePilot: error\nThe conversation failed.\nThe key was refused (401).\nCause: sign-in problem.\nClick to start a conversation.',
    );
  });

  it('shows a stopped sidecar above any connection state, and restarts it on click', () => {
    const look = describeStatusBar({
      status: status('connected'),
      talking: true,
      sidecarStopped: 'It stopped 3 times within a minute.',
    });

    assert.deepEqual(look, {
      text: '$(error) sidecar stopped',
      tooltip: 'VoicePilot: the sidecar is not running.\nIt stopped 3 times within a minute.\nClick to restart it.',
      background: 'statusBarItem.errorBackground',
      command: Commands.restartSidecar,
      shortState: 'error',
    });
  });
});

describe('describeStatusBar with device trouble', () => {
  it('warns while a device is replaced or paused, and says why in the tooltip', () => {
    const look = describeStatusBar({ ...view('connected'), devices: { input: MIC_GONE, output: SPEAKER_PAUSED } });

    assert.equal(look.background, 'statusBarItem.warningBackground');
    assert.equal(look.text, '$(mic-filled) listening');
    assert.equal(
      look.tooltip,
      [
        'VoicePilot: listening',
        'In a conversation.',
        "Using 'default' (the chosen microphone failed or is gone).",
        `Speaker paused: ${SPEAKER_PAUSED.message}`,
        'Click to end the conversation.',
      ].join('\n'),
    );
  });

  it('says "Microphone paused" with the reason', () => {
    const paused: DeviceStateParams = {
      kind: 'input',
      state: 'paused',
      previous: 'fallback',
      message: 'No microphone works.',
      errorKind: 'device',
    };
    const look = describeStatusBar({ ...view('connected'), devices: { input: paused } });

    assert.match(look.tooltip, /\nMicrophone paused: No microphone works\.\n/);
    assert.equal(look.background, 'statusBarItem.warningBackground');
  });

  it('is back to normal once the device works again, and an error stays an error', () => {
    const back = describeStatusBar({ ...view('connected'), devices: { input: MIC_BACK } });
    assert.equal(back.background, undefined);
    assert.doesNotMatch(back.tooltip, /microphone/i);
    assert.equal(
      describeStatusBar({ ...view('failed'), devices: { input: MIC_GONE } }).background,
      'statusBarItem.errorBackground',
    );
    assert.equal(describeStatusBar({ ...view('idle'), devices: { input: MIC_GONE } }).background, undefined);
  });

  it('keeps the short states: a device problem is not a state of its own', () => {
    for (const state of CONNECTION_STATES) {
      const look = describeStatusBar({ ...view(state), devices: { input: MIC_GONE } });
      assert.equal(look.shortState, EXPECTED_SHORT[state], state);
    }
  });
});

describe('describeDeviceNotice', () => {
  it('warns with the device picker when a device is replaced or paused', () => {
    assert.deepEqual(describeDeviceNotice(MIC_GONE, 'onError'), {
      show: 'warning',
      message: `VoicePilot: ${MIC_GONE.message}`,
      actions: ['selectMicrophone'],
    });
    assert.equal(FAILURE_ACTION_LABELS.selectMicrophone, 'Select Microphone');
    assert.deepEqual(describeDeviceNotice(SPEAKER_PAUSED, 'always'), {
      show: 'warning',
      message: `VoicePilot: ${SPEAKER_PAUSED.message}`,
      actions: ['selectSpeaker'],
    });
    assert.equal(FAILURE_ACTION_LABELS.selectSpeaker, 'Select Speaker');
  });

  it('only mentions a recovery in the status bar, and shows no pop-up when notifications are off', () => {
    assert.deepEqual(describeDeviceNotice(MIC_BACK, 'onError'), {
      show: 'statusBar',
      message: `VoicePilot: ${MIC_BACK.message}`,
    });
    assert.deepEqual(describeDeviceNotice(MIC_GONE, 'off'), { show: 'nothing' });
  });
});

describe('describeDevices', () => {
  it("lists each device's last state, else the device the levels name", () => {
    const level = {
      inputDbfs: -60,
      outputDbfs: -90,
      micOpen: true,
      muted: false,
      assistantSpeaking: false,
      inputDevice: 'default',
      outputDevice: 'Speakers',
    };

    assert.deepEqual(describeDevices({ input: MIC_GONE }, level), [
      {
        kind: 'input',
        label: 'Microphone',
        description: 'fallback: default',
        tooltip: MIC_GONE.message,
        problem: true,
      },
      { kind: 'output', label: 'Speaker', description: 'active: Speakers', tooltip: undefined, problem: false },
    ]);
    assert.deepEqual(describeDevices({ output: SPEAKER_PAUSED }, undefined), [
      { kind: 'output', label: 'Speaker', description: 'paused', tooltip: SPEAKER_PAUSED.message, problem: true },
    ]);
    assert.deepEqual(describeDevices({}, undefined), []);
  });
});

describe('formatDuration', () => {
  it('says seconds, minutes or hours', () => {
    assert.equal(formatDuration(4.6), '5 s');
    assert.equal(formatDuration(125), '2 min 05 s');
    assert.equal(formatDuration(3720), '1 h 02 min');
    assert.equal(formatDuration(-3), '0 s');
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
