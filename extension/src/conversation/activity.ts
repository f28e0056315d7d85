// The words for what goes on in a conversation, shared by the parts that track it and the views
// that show it: whether one is under way, who is talking, the devices' states, the error kinds.
// Pure: no `vscode` import.
import type { ConnectionState, ConnectionStateParams, DeviceStateParams } from '../sidecar/contract';

export type ErrorKind = NonNullable<ConnectionStateParams['errorKind']>;

/** `input`: the microphone; `output`: the speaker. */
export type DeviceKind = DeviceStateParams['kind'];
/** The last voicepilot/deviceState of each kind in this conversation; a kind without one is `active`. */
export type DeviceStates = Readonly<Partial<Record<DeviceKind, DeviceStateParams>>>;

/** What is going on inside a connected conversation, from the sidecar's transcripts and audio levels. */
export interface ConversationActivity {
  /** The assistant's voice is playing (or its words are arriving). */
  readonly assistantSpeaking: boolean;
  /** The user's turn ended and no answer has started yet. */
  readonly awaitingReply: boolean;
  readonly muted: boolean;
  /** Turns are taken by push to talk rather than detected by the service. */
  readonly pushToTalk: boolean;
  readonly dictating: boolean;
}

/** Nobody talks, nothing is muted: a conversation that has just connected. */
export const QUIET_ACTIVITY: ConversationActivity = {
  assistantSpeaking: false,
  awaitingReply: false,
  muted: false,
  pushToTalk: false,
  dictating: false,
};

/** The numbers the tooltip shows; each is left out while unknown. */
export interface SessionDetails {
  readonly sessionAgeS?: number;
  readonly nextKeyRenewalInS?: number;
  readonly inputDevice?: string;
  readonly rttMs?: number;
}

/** Whether a conversation is under way (or being set up): it can be ended, not started. */
export function isConversationActive(state: ConnectionState): boolean {
  return state !== 'idle' && state !== 'failed' && state !== 'closed';
}
