// Reads the `voicepilot.*` settings. The decisions made with them live in pure modules
// (../sidecar/sessionParams.ts, paths.ts, ../environment/findPython.ts, problems.ts).
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StartSessionParams } from '../sidecar/contract';
import { CONFIGURATION_SECTION, type USER_ONLY_SETTINGS } from '../ids';
import { resolveExecutableSetting, resolveFileSetting, type PathContext } from './paths';
import type {
  ApiFlavor,
  AuthMode,
  ConversationSettings,
  Eagerness,
  IcePolicy,
  IceServer,
  Modality,
  NoiseReduction,
  Transport,
  TurnTaking,
  VadKind,
} from '../sidecar/sessionParams';
import { DEFAULT_ALLOWED_REGIONS, type EffectiveSettings } from './problems';

/** The setting that, when it changes, means the sidecar should run on another interpreter. */
export const INTERPRETER_SETTING = `${CONFIGURATION_SECTION}.python.path`;

/** Settings a running conversation was started with: changing one restarts the conversation. */
export const SESSION_SETTINGS = [
  'profile',
  'azure',
  'voice',
  'instructions',
  'input.file',
  'input.maxFileSeconds',
  'audio',
  'turnDetection',
  'connection',
  'conversation',
  'transcription',
]
  .map((name) => `${CONFIGURATION_SECTION}.${name}`)
  .concat('http.proxy');

export type NotificationLevel = 'off' | 'onError' | 'onWarning' | 'always';

type UserOnlySetting = (typeof USER_ONLY_SETTINGS)[number];

/** The user's own value of `key` (their settings.json), else `fallback`: a workspace's is never read. */
function userSetting<T>(config: vscode.WorkspaceConfiguration, key: UserOnlySetting | 'python.path', fallback: T): T {
  const value = config.inspect<T>(key)?.globalValue;
  return value === undefined ? fallback : value;
}

export function readConversationSettings(): ConversationSettings {
  const config = vscode.workspace.getConfiguration(CONFIGURATION_SECTION);
  return {
    profile: userSetting<StartSessionParams['profile']>(config, 'profile', 'local'),
    azureEndpoint: userSetting(config, 'azure.endpoint', ''),
    azureDeployment: config.get<string>('azure.deployment', ''),
    azureApiVersion: config.get<string>('azure.apiVersion', ''),
    azureApiFlavor: config.get<ApiFlavor>('azure.apiFlavor', 'ga'),
    azureRegion: config.get<string>('azure.region', ''),
    azureAuth: config.get<AuthMode>('azure.auth', 'apiKey'),
    allowedRegions: stringList(userSetting<unknown>(config, 'azure.allowedRegions', [])),
    voice: config.get<string>('voice', ''),
    instructions: userSetting(config, 'instructions', ''),
    inputFile: resolveFileSetting(config.get<string>('input.file', ''), pathContext()),
    maxFileSeconds: config.get<number>('input.maxFileSeconds', 600),
    inputDevice: config.get<string>('audio.inputDevice', ''),
    outputDevice: config.get<string>('audio.outputDevice', ''),
    turnTaking: config.get<TurnTaking>('turnDetection.mode', 'vad'),
    bargeIn: config.get<boolean>('turnDetection.bargeIn', false),
    echoCancellation: config.get<boolean>('audio.echoCancellation', true),
    vad: {
      threshold: config.get<number>('turnDetection.threshold', 0.5),
      prefixPaddingMs: config.get<number>('turnDetection.prefixPaddingMs', 300),
      silenceDurationMs: config.get<number>('turnDetection.silenceDurationMs', 500),
    },
    renewIntervalS: config.get<number>('connection.renewIntervalS', 0),
    maxSessionS: config.get<number>('connection.maxSessionS', 0),
    transport: config.get<Transport>('connection.transport', 'auto'),
    iceServers: iceServerList(userSetting<unknown>(config, 'connection.iceServers', [])),
    iceTransportPolicy: userSetting<IcePolicy>(config, 'connection.iceTransportPolicy', 'all'),
    proxy: vscode.workspace.getConfiguration('http').get<string>('proxy', ''),
    modality: config.get<Modality>('conversation.mode', 'voice'),
    speech: {
      turnDetection: config.get<VadKind>('turnDetection.type', 'server_vad'),
      eagerness: config.get<Eagerness>('turnDetection.eagerness', 'auto'),
      idleTimeoutMs: config.get<number>('turnDetection.idleTimeoutMs', 0),
      noiseReduction: config.get<NoiseReduction>('audio.noiseReduction', 'off'),
      transcriptionModel: config.get<string>('transcription.model', ''),
      transcriptionLanguage: config.get<string>('transcription.language', ''),
    },
  };
}

/** The settings the problem rules need, merged over every scope. */
export function readEffectiveSettings(): EffectiveSettings {
  const config = vscode.workspace.getConfiguration(CONFIGURATION_SECTION);
  const allowed = stringList(userSetting<unknown>(config, 'azure.allowedRegions', [])).filter(
    (region) => region.trim() !== '',
  );
  return {
    profile: userSetting(config, 'profile', 'local'),
    allowedRegions: allowed.length > 0 ? allowed : DEFAULT_ALLOWED_REGIONS,
  };
}

/** Seconds of silence after which talking stops by itself; 0 never. */
export function readSilenceTimeoutS(): number {
  return vscode.workspace.getConfiguration(CONFIGURATION_SECTION).get<number>('talk.silenceTimeoutSeconds', 8);
}

/** How often keys are renewed, for the status bar's countdown (the sidecar's default is 50 s). */
export function readRenewIntervalS(): number {
  const value = vscode.workspace.getConfiguration(CONFIGURATION_SECTION).get<number>('connection.renewIntervalS', 0);
  return value > 0 ? value : 50;
}

export function readNotificationLevel(): NotificationLevel {
  return vscode.workspace.getConfiguration(CONFIGURATION_SECTION).get<NotificationLevel>('notifications', 'onError');
}

/** Spoken name → command id, added by the user to the commands the assistant may run. */
export function readExtraAllowedCommands(): Readonly<Record<string, unknown>> {
  const value = userSetting<unknown>(vscode.workspace.getConfiguration(CONFIGURATION_SECTION), 'tools.allowedCommands', {});
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Anything but an explicit `false` asks. */
export function readConfirmDestructive(): boolean {
  return userSetting<unknown>(vscode.workspace.getConfiguration(CONFIGURATION_SECTION), 'tools.confirmDestructive', true) !== false;
}

/** File-name patterns the tools may touch although they look secret. */
export function readAllowedSecretFiles(): readonly string[] {
  return stringList(userSetting<unknown>(vscode.workspace.getConfiguration(CONFIGURATION_SECTION), 'tools.allowedSecretFiles', []));
}

/**
 * `voicepilot.python.path`, resolved; undefined when unset. An untrusted workspace's value is not
 * read (the manifest lists it in restrictedConfigurations too): it would choose the program run.
 */
export function readConfiguredPython(trusted: boolean): string | undefined {
  const config = vscode.workspace.getConfiguration(CONFIGURATION_SECTION);
  const value = trusted ? config.get<string>('python.path', '') : userSetting(config, 'python.path', '');
  // Nor may `${workspaceFolder}` in the user's value point into an untrusted workspace.
  const context = trusted ? pathContext() : { ...pathContext(), workspaceFolder: undefined };
  return resolveExecutableSetting(typeof value === 'string' ? value : '', context);
}

/** The entries of `voicepilot.connection.iceServers` that have the expected shape. */
function iceServerList(value: unknown): IceServer[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.flatMap((item: unknown): IceServer[] => {
    if (typeof item !== 'object' || item === null) {
      return [];
    }
    const { urls, username } = item as { urls?: unknown; username?: unknown };
    const list = stringList(urls);
    return list.length === 0 ? [] : [{ urls: list, ...(typeof username === 'string' ? { username } : {}) }];
  });
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The first workspace folder on disk: where `${workspaceFolder}` and relative paths point. */
export function firstWorkspaceFolder(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.find((candidate) => candidate.uri.scheme === 'file');
  return folder?.uri.fsPath;
}

function pathContext(): PathContext {
  return { workspaceFolder: firstWorkspaceFolder(), homeDir: os.homedir() };
}

/** The microphone the conversation will listen to, as the status bar's tooltip names it. */
export function describeInputDevice(): string {
  const settings = readConversationSettings();
  if (settings.inputFile !== undefined) {
    return `${path.basename(settings.inputFile)} (file)`;
  }
  return settings.inputDevice !== undefined && settings.inputDevice !== '' ? settings.inputDevice : 'system default microphone';
}
