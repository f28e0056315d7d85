// How the sidecar's state is put in front of the user: status-bar text, icon and colour, the
// buttons of a failure message, the diagnostics list. Pure: no `vscode` import, unit-tested.
import type {
  AudioLevelParams,
  ConnectionState,
  ConnectionStateParams,
  DeviceStateParams,
  DiagnosticCheck,
} from '../sidecar/contract';
import { Commands } from '../ids';
import type { NotificationLevel } from '../settings/settings';
import {
  isConversationActive,
  QUIET_ACTIVITY,
  type ConversationActivity,
  type DeviceKind,
  type DeviceStates,
  type ErrorKind,
  type SessionDetails,
} from '../conversation/activity';

export type StatusBarBackground = 'statusBarItem.errorBackground' | 'statusBarItem.warningBackground';

export interface StatusBarLook {
  readonly text: string;
  /** Lines of the tooltip: the first names the state, the last says what a click does. */
  readonly tooltip: string;
  /** A theme colour id; undefined keeps the status bar's own colour. */
  readonly background: StatusBarBackground | undefined;
  readonly command: typeof Commands.pushToTalk | typeof Commands.restartSidecar;
  readonly shortState: ShortState;
}

/** The few words the status bar has room for. */
export const SHORT_STATES = ['idle', 'connecting', 'listening', 'thinking', 'speaking', 'reconnecting', 'error'] as const;
export type ShortState = (typeof SHORT_STATES)[number];

/** What the status bar shows. */
export interface StatusView {
  readonly status: ConnectionStateParams;
  /** The push-to-talk button is held (only meaningful while connected). */
  readonly talking: boolean;
  /** Why the sidecar is down with no automatic restart coming; undefined while it runs or restarts. */
  readonly sidecarStopped: string | undefined;
  readonly activity?: ConversationActivity;
  readonly details?: SessionDetails;
  /** The microphone's and the speaker's states: a paused or replaced device is a warning. */
  readonly devices?: DeviceStates;
  /** The workspace is in Restricted Mode, where the editor tools are off. */
  readonly toolsOff?: boolean;
}

/** The tooltip's line in Restricted Mode; the item's text gets the untrusted-workspace icon. */
export const TOOLS_OFF_LINE = 'Editor tools are off: this workspace is in Restricted Mode. Trust it to let the assistant act.';

const SHORT_LOOKS: Readonly<Record<ShortState, { icon: string; background?: StatusBarBackground }>> = {
  idle: { icon: '$(mic)' },
  connecting: { icon: '$(sync~spin)' },
  listening: { icon: '$(mic-filled)' },
  thinking: { icon: '$(loading~spin)' },
  speaking: { icon: '$(unmute)' },
  reconnecting: { icon: '$(sync~spin)', background: 'statusBarItem.warningBackground' },
  error: { icon: '$(error)', background: 'statusBarItem.errorBackground' },
};

const STATE_MEANINGS: Readonly<Record<ConnectionState, string>> = {
  idle: 'No conversation.',
  authenticating: 'Signing in to the realtime service…',
  connecting: 'Connecting to the realtime service…',
  connected: 'In a conversation.',
  renewing: 'Renewing the session; the conversation goes on.',
  reconnecting: 'The connection dropped; reconnecting…',
  failed: 'The conversation failed.',
  closed: 'The conversation ended.',
};

const ERROR_KIND_NAMES: Readonly<Record<ErrorKind, string>> = {
  auth: 'sign-in problem',
  quota: 'quota or rate limit reached',
  network: 'network problem',
  media: 'audio stream problem',
  device: 'audio device problem',
  protocol: 'protocol error',
  config: 'configuration problem',
};

/** The short state of the status bar: the sidecar's health first, then the connection, then the turn. */
export function shortStateOf({ status, talking, sidecarStopped, activity = QUIET_ACTIVITY }: StatusView): ShortState {
  if (sidecarStopped !== undefined) {
    return 'error';
  }
  switch (status.state) {
    case 'idle':
    case 'closed':
      return 'idle';
    case 'authenticating':
    case 'connecting':
      return 'connecting';
    case 'reconnecting':
      return 'reconnecting';
    case 'failed':
      return 'error';
    case 'connected':
    case 'renewing':
      if (activity.assistantSpeaking) {
        return 'speaking';
      }
      if (activity.awaitingReply && !talking) {
        return 'thinking';
      }
      return 'listening';
  }
}

/** The status-bar item: icon and short state, a tooltip with the details, what a click does. */
export function describeStatusBar(view: StatusView): StatusBarLook {
  const { status, talking, sidecarStopped, activity = QUIET_ACTIVITY, details = {}, devices = {}, toolsOff = false } = view;
  const shortState = shortStateOf(view);
  const look = SHORT_LOOKS[shortState];
  if (sidecarStopped !== undefined) {
    return {
      text: `${look.icon} sidecar stopped`,
      tooltip: `VoicePilot: the sidecar is not running.\n${sidecarStopped}\nClick to restart it.`,
      background: look.background,
      command: Commands.restartSidecar,
      shortState,
    };
  }
  const active = isConversationActive(status.state);
  const icon = active && activity.muted ? '$(circle-slash)' : look.icon;
  const deviceTrouble = active ? DEVICE_KINDS.map((kind) => deviceTroubleLine(devices[kind])) : [];
  const troubled = deviceTrouble.some((line) => line !== undefined);
  const lines = [
    `VoicePilot: ${shortState}${activity.dictating && active ? ' (dictation)' : ''}${activity.muted && active ? ', microphone muted' : ''}`,
    STATE_MEANINGS[status.state],
    status.reason,
    status.errorKind === undefined ? undefined : `Cause: ${ERROR_KIND_NAMES[status.errorKind]}.`,
    ...deviceTrouble,
    active && details.sessionAgeS !== undefined ? `Session age: ${formatDuration(details.sessionAgeS)}` : undefined,
    active && details.nextKeyRenewalInS !== undefined
      ? `Next key renewal: in ${formatDuration(details.nextKeyRenewalInS)}`
      : undefined,
    active && details.rttMs !== undefined ? `Round trip: ${Math.round(details.rttMs)} ms` : undefined,
    details.inputDevice === undefined ? undefined : `Input: ${details.inputDevice}`,
    toolsOff ? TOOLS_OFF_LINE : undefined,
    clickHint(status.state, talking, activity),
  ];
  return {
    text: `${icon} ${shortState}${toolsOff ? ' $(workspace-untrusted)' : ''}`,
    tooltip: lines.filter((line): line is string => line !== undefined && line !== '').join('\n'),
    // A device problem is a warning, unless the state already says something stronger.
    background: look.background ?? (troubled ? 'statusBarItem.warningBackground' : undefined),
    command: Commands.pushToTalk,
    shortState,
  };
}

const DEVICE_KINDS: readonly DeviceKind[] = ['input', 'output'];

/** How each kind of device is named, and the button that picks another. */
export const DEVICE_NAMES: Readonly<
  Record<DeviceKind, { noun: string; title: string; select: 'selectMicrophone' | 'selectSpeaker' }>
> = {
  input: { noun: 'microphone', title: 'Microphone', select: 'selectMicrophone' },
  output: { noun: 'speaker', title: 'Speaker', select: 'selectSpeaker' },
};

/** The tooltip's line for a paused or replaced device; undefined while it works as chosen. */
function deviceTroubleLine(change: DeviceStateParams | undefined): string | undefined {
  if (change === undefined) {
    return undefined;
  }
  const { noun, title } = DEVICE_NAMES[change.kind];
  switch (change.state) {
    case 'active':
      return undefined;
    case 'paused':
      return `${title} paused: ${change.message}`;
    case 'fallback':
      return `Using '${change.device ?? 'the default'}' (the chosen ${noun} failed or is gone).`;
  }
}

/** What the editor does when a device changes state. */
export type DeviceNotice =
  /** A warning message with a button that opens the device picker. */
  | ({ readonly show: 'warning' } & ErrorMessage)
  /** A status-bar message that goes away by itself: nothing to do. */
  | { readonly show: 'statusBar'; readonly message: string }
  | { readonly show: 'nothing' };

/**
 * The notice for a voicepilot/deviceState: a warning when a device is paused or replaced (unless
 * notifications are off), nothing intrusive when it works again.
 */
export function describeDeviceNotice(change: DeviceStateParams, notifications: NotificationLevel): DeviceNotice {
  const message = `VoicePilot: ${change.message}`;
  if (change.state === 'active') {
    return { show: 'statusBar', message };
  }
  if (notifications === 'off') {
    return { show: 'nothing' };
  }
  return { show: 'warning', message, actions: [DEVICE_NAMES[change.kind].select] };
}

export interface DeviceLine {
  readonly kind: DeviceKind;
  /** "Microphone" or "Speaker". */
  readonly label: string;
  /** The state and the device in use, e.g. "fallback: default". */
  readonly description: string;
  /** The last message about it; undefined while nothing happened. */
  readonly tooltip: string | undefined;
  readonly problem: boolean;
}

/**
 * The devices of the running conversation, for the diagnostics view: each kind's last state
 * change, else (nothing happened to it) the device the levels name, `active`.
 */
export function describeDevices(devices: DeviceStates, level: AudioLevelParams | undefined): DeviceLine[] {
  const lines: DeviceLine[] = [];
  for (const kind of DEVICE_KINDS) {
    const change = devices[kind];
    const label = DEVICE_NAMES[kind].title;
    if (change !== undefined) {
      const device = change.device === undefined ? '' : `: ${change.device}`;
      lines.push({
        kind,
        label,
        description: `${change.state}${device}`,
        tooltip: change.message,
        problem: change.state !== 'active',
      });
      continue;
    }
    const device = kind === 'input' ? level?.inputDevice : level?.outputDevice;
    if (device !== undefined) {
      lines.push({ kind, label, description: `active: ${device}`, tooltip: undefined, problem: false });
    }
  }
  return lines;
}

function clickHint(state: ConnectionState, talking: boolean, activity: ConversationActivity): string {
  if (!isConversationActive(state)) {
    return 'Click to start a conversation.';
  }
  if (state !== 'connected') {
    return 'Click to end the conversation.';
  }
  if (activity.pushToTalk) {
    return talking ? 'Talking: click again when you are done.' : 'Click to talk.';
  }
  return activity.assistantSpeaking ? 'Click to interrupt the answer.' : 'Click to end the conversation.';
}

/** "45 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) {
    return `${total} s`;
  }
  if (total < 3600) {
    return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`;
  }
  return `${Math.floor(total / 3600)} h ${String(Math.floor((total % 3600) / 60)).padStart(2, '0')} min`;
}

/** A button of an error message: the next step that most likely fixes the problem. */
export type FailureAction =
  | 'setApiKey'
  | 'openSettings'
  | 'runDiagnostics'
  | 'restartSidecar'
  | 'showLogs'
  | 'selectMicrophone'
  | 'selectSpeaker';

export const FAILURE_ACTION_LABELS: Readonly<Record<FailureAction, string>> = {
  setApiKey: 'Set API Key',
  openSettings: 'Open Settings',
  runDiagnostics: 'Run Diagnostics',
  restartSidecar: 'Restart',
  showLogs: 'Show Logs',
  selectMicrophone: 'Select Microphone',
  selectSpeaker: 'Select Speaker',
};

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
