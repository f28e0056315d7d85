// Identifiers shared by the manifest (package.json) and the code: keep the two in step.

export const Commands = {
  startConversation: 'voicepilot.startConversation',
  endConversation: 'voicepilot.endConversation',
  pushToTalk: 'voicepilot.pushToTalk',
  setApiKey: 'voicepilot.setApiKey',
  clearApiKey: 'voicepilot.clearApiKey',
  runDiagnostics: 'voicepilot.runDiagnostics',
  restartSidecar: 'voicepilot.restartSidecar',
  showLogs: 'voicepilot.showLogs',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

/** Context key holding the connection state, for `when` and `enablement` clauses. */
export const STATE_CONTEXT_KEY = 'voicepilot.state';

/** Root of the `voicepilot.*` settings. */
export const CONFIGURATION_SECTION = 'voicepilot';

/** `publisher.name` from package.json. */
export const EXTENSION_ID = 'voicepilot.voicepilot';
