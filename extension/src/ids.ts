// Identifiers shared by the manifest (package.json) and the code: keep the two in step.

export const Commands = {
  startConversation: 'voicepilot.startConversation',
  endConversation: 'voicepilot.endConversation',
  pushToTalk: 'voicepilot.pushToTalk',
  dictate: 'voicepilot.dictate',
  mute: 'voicepilot.mute',
  unmute: 'voicepilot.unmute',
  selectMicrophone: 'voicepilot.selectMicrophone',
  selectSpeaker: 'voicepilot.selectSpeaker',
  setApiKey: 'voicepilot.setApiKey',
  clearApiKey: 'voicepilot.clearApiKey',
  setTurnPassword: 'voicepilot.setTurnPassword',
  clearTurnPassword: 'voicepilot.clearTurnPassword',
  signInWithEntra: 'voicepilot.signInWithEntra',
  useLocalEngine: 'voicepilot.useLocalEngine',
  useAzure: 'voicepilot.useAzure',
  showTranscript: 'voicepilot.showTranscript',
  exportTranscript: 'voicepilot.exportTranscript',
  clearTranscript: 'voicepilot.clearTranscript',
  runDiagnostics: 'voicepilot.runDiagnostics',
  restartSidecar: 'voicepilot.restartSidecar',
  showLogs: 'voicepilot.showLogs',
  sendText: 'voicepilot.sendText',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

/** Context keys, for `when` and `enablement` clauses. */
export const ContextKeys = {
  /** The connection state the sidecar reported last (ConnectionState). */
  state: 'voicepilot.state',
  /** Push to talk is held. */
  talking: 'voicepilot.talking',
  /** The microphone is muted. */
  muted: 'voicepilot.muted',
  /** The running conversation is a dictation. */
  dictating: 'voicepilot.dictating',
  /** The sidecar is running. */
  sidecarRunning: 'voicepilot.sidecarRunning',
  /** An API key is stored. */
  hasApiKey: 'voicepilot.hasApiKey',
  /** The profile setting (local, azure, openai). */
  profile: 'voicepilot.profile',
} as const;

export type ContextKey = (typeof ContextKeys)[keyof typeof ContextKeys];

/** Context key holding the connection state, for `when` and `enablement` clauses. */
export const STATE_CONTEXT_KEY = ContextKeys.state;

/** Root of the `voicepilot.*` settings. */
export const CONFIGURATION_SECTION = 'voicepilot';

/** `publisher.name` from package.json. */
export const EXTENSION_ID = 'voicepilot.voicepilot';

/** The views, in the VoicePilot container of the panel. */
export const Views = {
  container: 'voicepilot',
  transcript: 'voicepilot.transcript',
  diagnostics: 'voicepilot.diagnostics',
} as const;

/**
 * Settings that belong to the user: what the model may do and where audio and keys go. They are
 * read from the user settings only (the manifest also scopes them `application`), so
 * a workspace's .vscode/settings.json cannot change them, trusted or not.
 */
export const USER_ONLY_SETTINGS = [
  'profile',
  'azure.endpoint',
  'azure.allowedRegions',
  'instructions',
  'tools.allowedCommands',
  'tools.confirmDestructive',
  'tools.allowedSecretFiles',
  // A workspace must not send the TURN password's proof to a server of its choosing.
  'connection.iceServers',
  'connection.iceTransportPolicy',
] as const;
