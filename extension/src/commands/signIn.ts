// Where the conversation goes and with which credential: Set API Key, Clear API Key, Set and
// Clear TURN Password, Sign In with Microsoft Entra ID, Use the Local Engine, Use Azure OpenAI.
import * as vscode from 'vscode';
import { Commands, CONFIGURATION_SECTION } from '../ids';
import type { Controller } from './controller';

export async function setApiKey({ apiKey }: Controller): Promise<void> {
  if (await apiKey.promptAndStore()) {
    vscode.window.setStatusBarMessage('VoicePilot: API key stored', 4_000);
  }
}

export async function clearApiKey({ apiKey }: Controller): Promise<void> {
  await apiKey.clear();
  vscode.window.setStatusBarMessage('VoicePilot: API key cleared', 4_000);
}

export async function setTurnPassword({ apiKey }: Controller): Promise<void> {
  await storedThen(apiKey.promptAndStoreTurnPassword(), 'VoicePilot: TURN password stored');
}

export async function clearTurnPassword({ apiKey }: Controller): Promise<void> {
  await storedThen(apiKey.clearTurnPassword().then(() => true), 'VoicePilot: TURN password cleared');
}

/** Says `message` in the status bar once `done` resolves true (false: the user cancelled). */
async function storedThen(done: Thenable<boolean>, message: string): Promise<void> {
  if (await done) {
    vscode.window.setStatusBarMessage(message, 4_000);
  }
}

export async function signInWithEntra(): Promise<void> {
  const config = vscode.workspace.getConfiguration(CONFIGURATION_SECTION);
  await config.update('azure.auth', 'entra', vscode.ConfigurationTarget.Global);
  if (config.get<string>('profile') !== 'azure') {
    await config.update('profile', 'azure', vscode.ConfigurationTarget.Global);
  }
  const diagnose = 'Run Diagnostics';
  const choice = await vscode.window.showInformationMessage(
    'VoicePilot signs in to Azure OpenAI with Microsoft Entra ID, without a key: it uses your Azure CLI login ' +
      '(run `az login`), the environment, or a managed identity. Your account needs the "Cognitive Services ' +
      'OpenAI User" role on the resource.',
    diagnose,
  );
  if (choice === diagnose) {
    await vscode.commands.executeCommand(Commands.runDiagnostics);
  }
}

export async function useProfile(profile: 'local' | 'azure'): Promise<void> {
  await vscode.workspace.getConfiguration(CONFIGURATION_SECTION).update('profile', profile, vscode.ConfigurationTarget.Global);
  vscode.window.setStatusBarMessage(
    profile === 'local' ? 'VoicePilot: using the local engine' : 'VoicePilot: using Azure OpenAI',
    4_000,
  );
}

/** Use Azure OpenAI: asks for what is missing (endpoint, deployment, a credential), then switches. */
export async function useAzure({ apiKey }: Controller): Promise<void> {
  const config = vscode.workspace.getConfiguration(CONFIGURATION_SECTION);
  const asked =
    (await askIfUnset(config, 'azure.endpoint', {
      title: 'VoicePilot: Azure OpenAI endpoint',
      prompt: 'The endpoint of your Azure OpenAI resource',
      placeHolder: 'https://my-resource.openai.azure.com',
      validateInput: (value) => (/^https:\/\/[^/\s]+/.test(value.trim()) ? undefined : 'Enter an https URL.'),
    })) &&
    (await askIfUnset(config, 'azure.deployment', {
      title: 'VoicePilot: realtime deployment',
      prompt: 'The name of the gpt-realtime deployment in that resource',
      value: 'gpt-realtime',
    }));
  if (!asked) {
    return;
  }
  await useProfile('azure');
  if (config.get<string>('azure.auth', 'apiKey') !== 'entra' && (await apiKey.get()) === undefined) {
    const setKey = 'Set API Key';
    const entra = 'Sign In with Microsoft Entra ID';
    const choice = await vscode.window.showInformationMessage('VoicePilot needs a credential for Azure OpenAI.', setKey, entra);
    if (choice === setKey) {
      await vscode.commands.executeCommand(Commands.setApiKey);
    } else if (choice === entra) {
      await vscode.commands.executeCommand(Commands.signInWithEntra);
    }
  }
}

/** Asks for a setting that is empty and stores the answer; false when the user cancels. */
async function askIfUnset(
  config: vscode.WorkspaceConfiguration,
  setting: string,
  options: vscode.InputBoxOptions,
): Promise<boolean> {
  if (config.get<string>(setting, '').trim() !== '') {
    return true;
  }
  const answer = await vscode.window.showInputBox({ ...options, ignoreFocusOut: true });
  if (answer === undefined) {
    return false;
  }
  await config.update(setting, answer.trim(), vscode.ConfigurationTarget.Global);
  return true;
}
