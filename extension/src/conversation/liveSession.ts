// What the sidecar tells about the running conversation besides its state: the stats of
// voicepilot/diagnostics, the levels of voicepilot/audioLevel, the microphone's and the speaker's
// states of voicepilot/deviceState, who is talking (from transcripts), recent errors. Pure (no
// `vscode` import; times are passed in), unit-tested; the status bar, the diagnostics view and the
// silence auto-stop read it.
import type {
  AudioLevelParams,
  ConnectionStateParams,
  DeviceStateParams,
  DiagnosticsParams,
  TranscriptParams,
} from '../sidecar/contract';
import {
  isConversationActive,
  type ConversationActivity,
  type DeviceStates,
  type ErrorKind,
  type SessionDetails,
} from './activity';

/** Below this level the microphone counts as silent (the sidecar's own pause threshold). */
export const SILENCE_DBFS = -45;
/** How many recent errors the diagnostics view lists. */
export const MAX_RECENT_ERRORS = 5;

export interface RecentError {
  readonly at: number;
  readonly message: string;
  readonly errorKind: ErrorKind | undefined;
}

export class LiveSession {
  private statsValue: Readonly<Record<string, number>> = {};
  private audio: AudioLevelParams | undefined;
  private devices: DeviceStates = {};
  /** The conversation the sidecar reported last, and whether it is under way. */
  private sessionId: string | undefined;
  private inConversation = false;
  private errors: RecentError[] = [];
  private connectedAt: number | undefined;
  private lastKeyAt: number | undefined;
  private lastSoundAt: number | undefined;
  private userTurnOpen = false;
  private awaiting = false;
  private assistantWords = false;
  private readonly listeners = new Set<() => void>();

  /** Calls `listener` after every change; returns the function that unsubscribes it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get stats(): Readonly<Record<string, number>> {
    return this.statsValue;
  }

  get audioLevel(): AudioLevelParams | undefined {
    return this.audio;
  }

  get recentErrors(): readonly RecentError[] {
    return this.errors;
  }

  /** The last state change of the microphone and of the speaker in this conversation. */
  get deviceStates(): DeviceStates {
    return this.devices;
  }

  onState(status: ConnectionStateParams, now: number): void {
    if (status.sessionId !== undefined && status.sessionId !== this.sessionId) {
      this.sessionId = status.sessionId;
      this.devices = {};
    }
    this.inConversation = isConversationActive(status.state);
    if (status.state === 'connected' && this.connectedAt === undefined) {
      this.connectedAt = now;
      this.lastKeyAt = now;
      this.lastSoundAt = now;
    }
    if (status.state === 'idle' || status.state === 'closed' || status.state === 'failed') {
      this.connectedAt = undefined;
      this.lastKeyAt = undefined;
      this.statsValue = {};
      this.audio = undefined;
      this.devices = {};
      this.userTurnOpen = false;
      this.awaiting = false;
      this.assistantWords = false;
    }
    if (status.state === 'failed' && status.reason !== undefined) {
      this.rememberError(now, status.reason, status.errorKind);
    }
    this.changed();
  }

  onDiagnostics(event: DiagnosticsParams, now: number): void {
    if (event.stats !== undefined && Object.keys(event.stats).length > 0 && event.message === undefined) {
      this.statsValue = { ...event.stats };
    }
    if (event.message === 'key_renewed') {
      this.lastKeyAt = now;
    } else if (event.message !== undefined && event.errorKind !== undefined) {
      this.rememberError(now, event.message, event.errorKind);
    }
    this.changed();
  }

  /**
   * A device failed, went away or came back: kept for the status bar; a failure is a recent error
   * too. False (and nothing kept) when it comes from a conversation that is over.
   */
  onDeviceState(change: DeviceStateParams, now: number): boolean {
    const { sessionId } = change;
    const otherSession = sessionId !== undefined && this.sessionId !== undefined && sessionId !== this.sessionId;
    if (!this.inConversation || otherSession) {
      return false;
    }
    this.devices = { ...this.devices, [change.kind]: change };
    if (change.errorKind !== undefined) {
      this.rememberError(now, change.message, change.errorKind);
    }
    this.changed();
    return true;
  }

  onAudioLevel(level: AudioLevelParams, now: number): void {
    this.audio = level;
    if (level.inputDbfs > SILENCE_DBFS || level.assistantSpeaking) {
      this.lastSoundAt = now;
    }
    this.changed();
  }

  onTranscript(line: TranscriptParams, now: number): void {
    this.lastSoundAt = now;
    if (line.role === 'user') {
      this.userTurnOpen = !line.final;
      this.awaiting = line.final;
      this.assistantWords = false;
    } else {
      this.awaiting = false;
      this.assistantWords = !line.final;
    }
    this.changed();
  }

  /** How long nothing was heard from either side; undefined outside a conversation. */
  silentForMs(now: number): number | undefined {
    return this.lastSoundAt === undefined || this.connectedAt === undefined ? undefined : now - this.lastSoundAt;
  }

  /** Restarts the silence clock: talking just started. */
  markSound(now: number): void {
    this.lastSoundAt = now;
  }

  activity(flags: { muted: boolean; pushToTalk: boolean; dictating: boolean }): ConversationActivity {
    return {
      assistantSpeaking: this.audio?.assistantSpeaking === true || this.assistantWords,
      awaitingReply: this.awaiting && !this.userTurnOpen,
      ...flags,
    };
  }

  details(now: number, renewIntervalS: number, inputDevice: string | undefined): SessionDetails {
    const stats = this.statsValue;
    const age = stats['sessionAgeS'] ?? (this.connectedAt === undefined ? undefined : (now - this.connectedAt) / 1000);
    const sinceKey = this.lastKeyAt === undefined ? undefined : (now - this.lastKeyAt) / 1000;
    return {
      ...(age === undefined ? {} : { sessionAgeS: age }),
      ...(sinceKey === undefined ? {} : { nextKeyRenewalInS: Math.max(0, renewIntervalS - sinceKey) }),
      ...(stats['rttMs'] === undefined ? {} : { rttMs: stats['rttMs'] }),
      ...(inputDevice === undefined ? {} : { inputDevice: this.audio?.inputDevice ?? inputDevice }),
    };
  }

  private rememberError(now: number, message: string, errorKind: ErrorKind | undefined): void {
    this.errors = [{ at: now, message, errorKind }, ...this.errors].slice(0, MAX_RECENT_ERRORS);
  }

  private changed(): void {
    for (const listener of this.listeners) {
      listener();
    }
  }
}

/** A stat's name and value as the diagnostics view lists them; undefined for the ones it leaves out. */
export function describeStat(name: string, value: number): { label: string; value: string } | undefined {
  const format = STAT_FORMATS[name];
  return format === undefined ? undefined : { label: format[0], value: format[1](value) };
}

const ms = (value: number): string => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
const seconds = (value: number): string => `${Math.round(value)} s`;
const count = (value: number): string => String(Math.round(value));

const STAT_FORMATS: Readonly<Record<string, readonly [string, (value: number) => string]>> = {
  rttMs: ['Round-trip time', ms],
  jitterMs: ['Jitter', ms],
  packetsLost: ['Packets lost', count],
  fractionLost: ['Loss', (value) => `${(value * 100).toFixed(1)} %`],
  bitrateKbps: ['Send bitrate', (value) => `${value.toFixed(1)} kbit/s`],
  keyExpiresInS: ['Key expires in', seconds],
  sessionAgeS: ['Session age', seconds],
  serviceSessionEndsInS: ['Service session ends in', seconds],
  keyMintMs: ['Key mint time', ms],
  handovers: ['Handovers', count],
  reconnects: ['Reconnects', count],
  protocol_errors: ['Protocol errors', count],
};

/** The order the stats are listed in. */
export const STAT_ORDER = Object.keys(STAT_FORMATS);
