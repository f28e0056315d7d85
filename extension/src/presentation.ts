// How the sidecar's state is put in front of the user: status-bar text, icon and colour, the
// buttons of a failure message, the diagnostics list. Pure: no `vscode` import, unit-tested.
import type { ConnectionState, ConnectionStateParams, DiagnosticCheck } from './contract';
import { Commands } from './ids';

export type ErrorKind = NonNullable<ConnectionStateParams['errorKind']>;

export type StatusBarBackground = 'statusBarItem.errorBackground' | 'statusBarItem.warningBackground';

export interface StatusBarLook {
  readonly text: string;
  readonly tooltip: string;
  /** A theme colour id; undefined keeps the status bar's own colour. */
  readonly background: StatusBarBackground | undefined;
  readonly command: typeof Commands.pushToTalk | typeof Commands.startConversation | typeof Commands.restartSidecar;
}

/** What the status bar shows. */
export interface StatusView {
  readonly status: ConnectionStateParams;
  /** The push-to-talk button is held (only meaningful while connected). */
  readonly talking: boolean;
  /** Why the sidecar is down with no automatic restart coming; undefined while it runs or restarts. */
  readonly sidecarStopped: string | undefined;
}

interface StateLook {
  readonly icon: string;
  readonly meaning: string;
  readonly background?: StatusBarBackground;
}

const STATE_LOOKS: Readonly<Record<ConnectionState, StateLook>> = {
  idle: { icon: '$(mic)', meaning: 'No conversation.' },
  authenticating: { icon: '$(sync~spin)', meaning: 'Signing in to the realtime service…' },
  connecting: { icon: '$(sync~spin)', meaning: 'Connecting to the realtime service…' },
  connected: { icon: '$(mic-filled)', meaning: 'In a conversation.' },
  renewing: { icon: '$(sync~spin)', meaning: 'Renewing the session; the conversation goes on.' },
  reconnecting: {
    icon: '$(sync~spin)',
    meaning: 'The connection dropped; reconnecting…',
    background: 'statusBarItem.warningBackground',
  },
  failed: { icon: '$(error)', meaning: 'The conversation failed.', background: 'statusBarItem.errorBackground' },
  closed: { icon: '$(debug-disconnect)', meaning: 'The conversation ended.' },
};

const ERROR_KIND_NAMES: Readonly<Record<ErrorKind, string>> = {
  auth: 'sign-in problem',
  quota: 'quota or rate limit reached',
  network: 'network problem',
  media: 'audio stream problem',
  device: 'microphone problem',
  protocol: 'protocol error',
  config: 'configuration problem',
};

/** The status-bar item: the sidecar's health first, then the connection state. */
export function describeStatusBar({ status, talking, sidecarStopped }: StatusView): StatusBarLook {
  if (sidecarStopped !== undefined) {
    return {
      text: '$(error) VoicePilot: sidecar stopped',
      tooltip: `VoicePilot: the sidecar is not running.\n${sidecarStopped}\nClick to restart it.`,
      background: 'statusBarItem.errorBackground',
      command: Commands.restartSidecar,
    };
  }
  const look = STATE_LOOKS[status.state];
  const connected = status.state === 'connected';
  const talkingNow = connected && talking;
  const icon = talkingNow ? '$(record)' : look.icon;
  const label = talkingNow ? 'talking' : status.state;
  const tooltip = [
    `VoicePilot: ${talkingNow ? 'Talking: click again when you are done.' : look.meaning}`,
    status.reason,
    status.errorKind === undefined ? undefined : `Cause: ${ERROR_KIND_NAMES[status.errorKind]}.`,
    talkingNow ? undefined : connected ? 'Click to push to talk.' : 'Click to start a conversation.',
  ].filter((line): line is string => line !== undefined && line !== '');
  return {
    text: `${icon} VoicePilot: ${label}`,
    tooltip: tooltip.join('\n'),
    background: look.background,
    command: connected ? Commands.pushToTalk : Commands.startConversation,
  };
}

/** A button of an error message: the next step that most likely fixes the problem. */
export type FailureAction = 'setApiKey' | 'openSettings' | 'runDiagnostics' | 'restartSidecar' | 'showLogs';

export const FAILURE_ACTION_LABELS: Readonly<Record<FailureAction, string>> = {
  setApiKey: 'Set API Key',
  openSettings: 'Open Settings',
  runDiagnostics: 'Run Diagnostics',
  restartSidecar: 'Restart',
  showLogs: 'Show Logs',
};

/** Whether a conversation is under way (or being set up): it can be ended, not started. */
export function isConversationActive(state: ConnectionState): boolean {
  return state !== 'idle' && state !== 'failed' && state !== 'closed';
}

export interface ErrorMessage {
  readonly message: string;
  readonly actions: FailureAction[];
}

/** The text and buttons of the error message shown when a conversation fails. */
export function describeFailure(status: ConnectionStateParams): ErrorMessage {
  const cause = status.errorKind === undefined ? '' : ` (${ERROR_KIND_NAMES[status.errorKind]})`;
  return {
    message: `VoicePilot: ${status.reason ?? 'the conversation failed'}${cause}`,
    actions: actionsFor(status.errorKind),
  };
}

/**
 * The error message for a request the sidecar answered with an error. Its classified errors carry
 * `{errorKind, nextStep}` as the JSON-RPC error's data.
 */
export function describeRequestFailure(whatFailed: string, reason: string, data: unknown): ErrorMessage {
  const details = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  const errorKind = Object.keys(ERROR_KIND_NAMES).find((kind) => kind === details['errorKind']) as
    | ErrorKind
    | undefined;
  const nextStep = typeof details['nextStep'] === 'string' ? details['nextStep'] : '';
  const advice = nextStep === '' || reason.includes(nextStep) ? '' : ` ${nextStep}`;
  return { message: `VoicePilot could not ${whatFailed}: ${reason}${advice}`, actions: actionsFor(errorKind) };
}

function actionsFor(errorKind: ErrorKind | undefined): FailureAction[] {
  switch (errorKind) {
    case 'auth':
      return ['setApiKey', 'runDiagnostics', 'showLogs'];
    case 'config':
    case 'device':
      return ['openSettings', 'showLogs'];
    case 'network':
    case 'quota':
    case 'media':
      return ['runDiagnostics', 'showLogs'];
    case 'protocol':
    case undefined:
      return ['showLogs'];
  }
}

export interface DiagnosticsView {
  readonly title: string;
  readonly items: readonly { label: string; description: string; detail: string | undefined }[];
}

/** The quick pick that lists the sidecar's connection checks. */
export function describeDiagnostics(checks: readonly DiagnosticCheck[]): DiagnosticsView {
  const passed = checks.filter((check) => check.ok).length;
  return {
    title: `VoicePilot diagnostics: ${passed} of ${checks.length} checks passed`,
    items: checks.map((check) => ({
      label: `${check.ok ? '$(pass)' : '$(error)'} ${check.name}`,
      description: check.detail,
      detail: check.ok || check.nextStep === undefined ? undefined : `Next step: ${check.nextStep}`,
    })),
  };
}
