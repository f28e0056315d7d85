// The connection checks the extension answers itself, before the sidecar's: whether the settings
// are valid, whether a credential is at hand, whether there is something to listen to. Pure,
// unit-tested.
import type { DiagnosticCheck, ListDevicesResult } from '../sidecar/contract';

export interface LocalCheckInput {
  /** Messages of the configuration problems shown in the Problems panel. */
  readonly settingsProblems: readonly string[];
  readonly profile: 'local' | 'azure' | 'openai';
  readonly auth: 'apiKey' | 'entra';
  readonly hasApiKey: boolean;
  /** voicepilot.input.file, resolved; with whether it exists. */
  readonly inputFile: { readonly path: string; readonly exists: boolean } | undefined;
  /** The sidecar's device listing, or why it failed. */
  readonly devices: ListDevicesResult | Error;
}

export function localChecks(input: LocalCheckInput): DiagnosticCheck[] {
  return [settingsCheck(input), credentialCheck(input), audioCheck(input)];
}

function settingsCheck({ settingsProblems }: LocalCheckInput): DiagnosticCheck {
  if (settingsProblems.length === 0) {
    return { name: 'settings valid', ok: true, detail: 'The voicepilot.* settings have no problems.' };
  }
  return {
    name: 'settings valid',
    ok: false,
    detail: `${settingsProblems.length} problem${settingsProblems.length === 1 ? '' : 's'}: ${settingsProblems[0] ?? ''}`,
    nextStep: 'Open the Problems panel (Ctrl+Shift+M) and apply the quick fix on the settings.json line.',
  };
}

function credentialCheck({ profile, auth, hasApiKey }: LocalCheckInput): DiagnosticCheck {
  if (profile === 'local') {
    return { name: 'credential available', ok: true, detail: 'The local engine needs no credential.' };
  }
  if (profile === 'azure' && auth === 'entra') {
    return {
      name: 'credential available',
      ok: true,
      detail: 'Keyless: Microsoft Entra ID (the sidecar signs in when a conversation starts).',
    };
  }
  return hasApiKey
    ? { name: 'credential available', ok: true, detail: `An API key for the ${profile} profile is stored.` }
    : {
        name: 'credential available',
        ok: false,
        detail: `No API key is stored for the ${profile} profile.`,
        nextStep:
          profile === 'azure'
            ? "Run 'VoicePilot: Set API Key', or 'VoicePilot: Sign In with Microsoft Entra ID'."
            : "Run 'VoicePilot: Set API Key'.",
      };
}

function audioCheck({ inputFile, devices }: LocalCheckInput): DiagnosticCheck {
  if (inputFile !== undefined) {
    return inputFile.exists
      ? { name: 'audio devices present', ok: true, detail: `The file ${inputFile.path} stands in for the microphone.` }
      : {
          name: 'audio devices present',
          ok: false,
          detail: `The input file ${inputFile.path} does not exist.`,
          nextStep: 'Fix voicepilot.input.file, or clear it to use the microphone.',
        };
  }
  if (devices instanceof Error) {
    return {
      name: 'audio devices present',
      ok: false,
      detail: `The audio devices could not be listed: ${devices.message}`,
      nextStep: 'Check that the sound system (PulseAudio, PipeWire, CoreAudio) runs, then run the diagnostics again.',
    };
  }
  if (devices.inputs.length === 0) {
    return {
      name: 'audio devices present',
      ok: false,
      detail: 'No microphone was found.',
      nextStep: "Connect a microphone, then run 'VoicePilot: Select Microphone'.",
    };
  }
  const input = devices.selectedInput ?? devices.inputs.find((device) => device.isDefault)?.name ?? devices.inputs[0]?.name;
  return {
    name: 'audio devices present',
    ok: true,
    detail: `${devices.inputs.length} microphone(s), ${devices.outputs.length} speaker(s); input: ${input ?? 'default'}.`,
  };
}
