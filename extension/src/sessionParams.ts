// The voicepilot/startSession request built from the user's settings. Pure: settings.ts reads
// them from VS Code; this module is unit-tested.
import { EDITOR_TOOLS, type ConnectionSettings, type StartSessionParams } from './contract';

/** The `voicepilot.*` settings a conversation uses, trimmed, paths resolved. */
export interface ConversationSettings {
  readonly profile: StartSessionParams['profile'];
  readonly azureEndpoint: string;
  readonly azureDeployment: string;
  readonly azureApiVersion: string;
  readonly voice: string;
  readonly instructions: string;
  /** `voicepilot.input.file` as an absolute path; undefined means the microphone. */
  readonly inputFile: string | undefined;
}

/**
 * Empty settings are left out so the sidecar's profile defaults apply, and the Azure settings are
 * sent only with the Azure profile, where they mean something.
 */
export function buildStartSessionParams(settings: ConversationSettings): StartSessionParams {
  const connection: ConnectionSettings = {};
  if (settings.profile === 'azure') {
    setIfNotEmpty(connection, 'endpoint', settings.azureEndpoint);
    setIfNotEmpty(connection, 'deployment', settings.azureDeployment);
    setIfNotEmpty(connection, 'apiVersion', settings.azureApiVersion);
  }
  setIfNotEmpty(connection, 'voice', settings.voice);
  setIfNotEmpty(connection, 'instructions', settings.instructions);
  return {
    profile: settings.profile,
    input: settings.inputFile === undefined ? { kind: 'device' } : { kind: 'file', path: settings.inputFile },
    tools: [...EDITOR_TOOLS],
    ...(Object.keys(connection).length > 0 ? { connection } : {}),
  };
}

function setIfNotEmpty(
  connection: ConnectionSettings,
  key: 'endpoint' | 'deployment' | 'apiVersion' | 'voice' | 'instructions',
  value: string,
): void {
  if (value.trim() !== '') {
    connection[key] = value.trim();
  }
}
