// The voicepilot/startSession request built from the user's settings. Pure:
// ../settings/settings.ts reads them from VS Code; this module is unit-tested.
import {
  EDITOR_TOOLS,
  type ConnectionSettings,
  type SpeechSettings,
  type StartSessionParams,
  type VadSettings,
} from './contract';

export type Transport = NonNullable<ConnectionSettings['transport']>;
export type AuthMode = NonNullable<ConnectionSettings['auth']>;
export type ApiFlavor = NonNullable<ConnectionSettings['apiFlavor']>;
export type IceServer = NonNullable<ConnectionSettings['iceServers']>[number];
export type IcePolicy = NonNullable<ConnectionSettings['iceTransportPolicy']>;
export type TurnTaking = NonNullable<StartSessionParams['turnTaking']>;
export type Modality = NonNullable<StartSessionParams['modality']>;
export type VadKind = NonNullable<SpeechSettings['turnDetection']>;
export type Eagerness = NonNullable<SpeechSettings['eagerness']>;
export type NoiseReduction = NonNullable<SpeechSettings['noiseReduction']> | 'off';

/** The speech settings as read: empty strings, 0 and "off" mean the sidecar's default. */
export interface SpeechChoices {
  readonly turnDetection?: VadKind;
  readonly eagerness?: Eagerness;
  readonly idleTimeoutMs?: number;
  readonly noiseReduction?: NoiseReduction;
  readonly transcriptionModel?: string;
  readonly transcriptionLanguage?: string;
}

const IDLE_TIMEOUT_MS = { min: 5000, max: 30000 };

/** Only what differs from the defaults, so a user who sets nothing sends no `speech` at all. */
export function buildSpeechSettings(choices: SpeechChoices | undefined): SpeechSettings | undefined {
  const speech: SpeechSettings = {};
  if (choices?.turnDetection === 'semantic_vad') {
    speech.turnDetection = 'semantic_vad';
    if (choices.eagerness !== undefined && choices.eagerness !== 'auto') {
      speech.eagerness = choices.eagerness;
    }
  } else if (choices?.idleTimeoutMs !== undefined && choices.idleTimeoutMs > 0) {
    const clamped = Math.round(Math.min(IDLE_TIMEOUT_MS.max, Math.max(IDLE_TIMEOUT_MS.min, choices.idleTimeoutMs)));
    speech.idleTimeoutMs = clamped;
  }
  if (choices?.noiseReduction !== undefined && choices.noiseReduction !== 'off') {
    speech.noiseReduction = choices.noiseReduction;
  }
  const model = choices?.transcriptionModel?.trim() ?? '';
  if (model !== '') {
    speech.transcriptionModel = model;
  }
  const language = choices?.transcriptionLanguage?.trim() ?? '';
  if (language !== '') {
    speech.transcriptionLanguage = language;
  }
  return Object.keys(speech).length > 0 ? speech : undefined;
}

/** The `voicepilot.*` settings a conversation uses, trimmed, paths resolved. */
export interface ConversationSettings {
  readonly profile: StartSessionParams['profile'];
  readonly azureEndpoint: string;
  readonly azureDeployment: string;
  readonly azureApiVersion: string;
  readonly azureApiFlavor?: ApiFlavor;
  readonly azureRegion?: string;
  readonly azureAuth?: AuthMode;
  /** Empty: the sidecar's default allowlist. */
  readonly allowedRegions?: readonly string[];
  readonly voice: string;
  readonly instructions: string;
  /** `voicepilot.input.file` as an absolute path; undefined means the microphone. */
  readonly inputFile: string | undefined;
  /** The longest input file played (seconds); undefined or 0: the sidecar's default (600). */
  readonly maxFileSeconds?: number;
  /** Empty: the system's default device. */
  readonly inputDevice?: string;
  readonly outputDevice?: string;
  readonly turnTaking?: TurnTaking;
  readonly bargeIn?: boolean;
  /** With barge-in, take the assistant's voice out of the microphone (default true: the sidecar's default). */
  readonly echoCancellation?: boolean;
  /** Server VAD parameters (used in VAD mode only). */
  readonly vad?: VadSettings;
  /** 0 or undefined: the sidecar's default. */
  readonly renewIntervalS?: number;
  readonly maxSessionS?: number;
  readonly transport?: Transport;
  /** STUN/TURN servers (their TURN password travels by setCredentials, not here). */
  readonly iceServers?: readonly IceServer[];
  readonly iceTransportPolicy?: IcePolicy;
  /** VS Code's `http.proxy`; empty: the sidecar's environment decides. */
  readonly proxy?: string;
  /** `voicepilot.conversation.mode`: "text" types instead of speaking and opens no audio device. */
  readonly modality?: Modality;
  /** Turn detection's kind, noise reduction, transcription. */
  readonly speech?: SpeechChoices;
}

/** Dictation: the final user text goes in at the cursor; the assistant neither acts nor speaks. */
export const DICTATION_INSTRUCTIONS =
  'You are a dictation service. Do not answer, do not call tools: the user dictates text, and only the transcript is used.';

/**
 * Empty settings are left out so the sidecar's profile defaults apply, and the Azure settings are
 * sent only with the Azure profile, where they mean something.
 */
export function buildStartSessionParams(
  settings: ConversationSettings,
  mode: NonNullable<StartSessionParams['mode']> = 'conversation',
): StartSessionParams {
  const connection: ConnectionSettings = {};
  if (settings.profile === 'azure') {
    setIfNotEmpty(connection, 'endpoint', settings.azureEndpoint);
    setIfNotEmpty(connection, 'deployment', settings.azureDeployment);
    setIfNotEmpty(connection, 'apiVersion', settings.azureApiVersion);
    setIfNotEmpty(connection, 'region', settings.azureRegion ?? '');
    if (settings.azureApiFlavor !== undefined && settings.azureApiFlavor !== 'ga') {
      connection.apiFlavor = settings.azureApiFlavor;
    }
    if (settings.azureAuth === 'entra') {
      connection.auth = 'entra';
    }
    const regions = (settings.allowedRegions ?? []).map((region) => region.trim()).filter((region) => region !== '');
    if (regions.length > 0) {
      connection.allowedRegions = regions;
    }
  }
  setIfNotEmpty(connection, 'voice', settings.voice);
  if (mode === 'dictation') {
    connection.instructions = DICTATION_INSTRUCTIONS;
  } else {
    setIfNotEmpty(connection, 'instructions', settings.instructions);
  }
  if (settings.renewIntervalS !== undefined && settings.renewIntervalS > 0) {
    connection.renewIntervalS = settings.renewIntervalS;
  }
  if (settings.maxSessionS !== undefined && settings.maxSessionS > 0) {
    connection.maxSessionS = settings.maxSessionS;
  }
  if (settings.transport !== undefined && settings.transport !== 'auto') {
    connection.transport = settings.transport;
  }
  const iceServers = (settings.iceServers ?? [])
    .map((server) => ({ ...server, urls: server.urls.map((url) => url.trim()).filter((url) => url !== '') }))
    .filter((server) => server.urls.length > 0);
  if (iceServers.length > 0) {
    connection.iceServers = iceServers;
  }
  if (settings.iceTransportPolicy === 'relay') {
    connection.iceTransportPolicy = 'relay';
  }
  if ((settings.proxy ?? '').trim() !== '') {
    connection.proxy = (settings.proxy ?? '').trim();
  }
  const inputDevice = settings.inputDevice?.trim() ?? '';
  const outputDevice = settings.outputDevice?.trim() ?? '';
  const params: StartSessionParams = {
    profile: settings.profile,
    input:
      settings.inputFile !== undefined
        ? {
            kind: 'file',
            path: settings.inputFile,
            ...(settings.maxFileSeconds !== undefined && settings.maxFileSeconds > 0
              ? { maxSeconds: settings.maxFileSeconds }
              : {}),
          }
        : inputDevice === ''
          ? { kind: 'device' }
          : { kind: 'device', name: inputDevice },
    tools: mode === 'dictation' ? [] : [...EDITOR_TOOLS],
    ...(Object.keys(connection).length > 0 ? { connection } : {}),
  };
  if (mode === 'conversation' && settings.modality === 'text') {
    // Typed in, written out: no microphone, no speaker, no turns to detect.
    delete params.input;
    params.modality = 'text';
    return params;
  }
  if (mode === 'dictation') {
    params.mode = 'dictation';
    params.output = { kind: 'none' };
  } else if (outputDevice !== '') {
    params.output = { kind: 'device', name: outputDevice };
  }
  if (settings.turnTaking === 'pushToTalk') {
    params.turnTaking = 'pushToTalk';
  } else if (settings.vad !== undefined) {
    params.vad = { ...settings.vad };
  }
  if (settings.bargeIn === true) {
    params.bargeIn = true;
  }
  if (settings.echoCancellation === false) {
    params.echoCancellation = false;
  }
  const speech = buildSpeechSettings(settings.speech);
  if (speech !== undefined) {
    params.speech = speech;
  }
  return params;
}

function setIfNotEmpty(
  connection: ConnectionSettings,
  key: 'endpoint' | 'deployment' | 'apiVersion' | 'voice' | 'instructions' | 'region',
  value: string,
): void {
  if (value.trim() !== '') {
    connection[key] = value.trim();
  }
}
