// The VoicePilot commands, and the reactions to changes that, like them, end in a request to the
// sidecar or a restart of it: a new API key, a new interpreter, a changed session setting, a
// failed conversation, a long silence.
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import type { ContextKeyPublisher } from '../views/contextKeys';
import { Methods, type AudioDevice, type DiagnosticCheck, type StartSessionParams } from '../sidecar/contract';
import type { ApiKeyStore } from '../settings/credentials';
import type { DiagnosticsView } from '../views/diagnosticsView';
import { Commands, CONFIGURATION_SECTION, ContextKeys, Views, type CommandId } from '../ids';
import type { LiveSession } from '../conversation/liveSession';
import { localChecks } from './localChecks';
import { reportError, showMessageWithActions } from '../views/messages';
import { describeFailure } from '../views/presentation';
import { buildStartSessionParams } from '../sidecar/sessionParams';
import {
  INTERPRETER_SETTING,
  readConversationSettings,
  readNotificationLevel,
  readSilenceTimeoutS,
  SESSION_SETTINGS,
} from '../settings/settings';
import type { SettingsDiagnostics } from '../settings/diagnostics';
import type { Sidecar } from '../sidecar/client';
import type { ConnectionStateStore } from '../conversation/state';
import type { TranscriptView } from '../views/transcriptView';

export interface Controller {
  readonly sidecar: Sidecar;
  readonly state: ConnectionStateStore;
  readonly apiKey: ApiKeyStore;
  readonly log: vscode.LogOutputChannel;
  readonly live: LiveSession;
  readonly transcript: TranscriptView;
  readonly diagnostics: DiagnosticsView;
  readonly settingsDiagnostics: SettingsDiagnostics;
  readonly contextKeys: ContextKeyPublisher;
}

export function registerCommands(controller: Controller): vscode.Disposable {
  const handlers: Readonly<Record<CommandId, () => Promise<void> | void>> = {
    [Commands.startConversation]: () => startConversation(controller, 'conversation'),
    [Commands.endConversation]: () => endConversation(controller),
    [Commands.pushToTalk]: () => toggleTalking(controller),
    [Commands.dictate]: () => dictate(controller),
    [Commands.mute]: () => setMute(controller, true),
    [Commands.unmute]: () => setMute(controller, false),
    [Commands.selectMicrophone]: () => selectDevice(controller, 'input'),
    [Commands.selectSpeaker]: () => selectDevice(controller, 'output'),
    [Commands.setApiKey]: () => setApiKey(controller),
    [Commands.clearApiKey]: () => clearApiKey(controller),
    [Commands.signInWithEntra]: () => signInWithEntra(),
    [Commands.useLocalEngine]: () => useProfile('local'),
    [Commands.useAzure]: () => useAzure(controller),
    [Commands.showTranscript]: () => showTranscript(controller),
    [Commands.exportTranscript]: () => controller.transcript.exportMarkdown(),
    [Commands.clearTranscript]: () => controller.transcript.clear(),
    [Commands.runDiagnostics]: () => runDiagnostics(controller),
    [Commands.restartSidecar]: () => restartSidecar(controller),
    [Commands.showLogs]: () => controller.log.show(),
  };
  return vscode.Disposable.from(
    ...Object.entries(handlers).map(([command, handler]) => vscode.commands.registerCommand(command, handler)),
  );
}

/** How often the silence auto-stop looks at the clock. */
const SILENCE_CHECK_MS = 500;

/** Keeps the sidecar in step with what changes outside the commands, and reports failures. */
export function registerReactions(controller: Controller): vscode.Disposable {
  const { apiKey, state, live } = controller;
  const silenceTimer = setInterval(() => void stopAfterSilence(controller), SILENCE_CHECK_MS);
  const publishProfile = (): void =>
    controller.contextKeys.set(ContextKeys.profile, readConversationSettings().profile);
  publishProfile();
  void apiKey.get().then((key) => controller.contextKeys.set(ContextKeys.hasApiKey, key !== undefined));
  return vscode.Disposable.from(
    { dispose: () => clearInterval(silenceTimer) },
    // SecretStorage reports this window's changes too: the one place a new key is sent from.
    apiKey.onDidChange(() => void deliverApiKey(controller)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(INTERPRETER_SETTING)) {
        void restartForChange(controller, 'The Python interpreter setting changed.');
      } else if (SESSION_SETTINGS.some((setting) => event.affectsConfiguration(setting))) {
        void restartConversation(controller);
      }
      publishProfile();
    }),
    // A trusted workspace may use its own `.venv`.
    vscode.workspace.onDidGrantWorkspaceTrust(
      () => void restartForChange(controller, 'The workspace is trusted now, so its .venv may be used.'),
    ),
    state.onDidChange((status) => {
      if (status.state === 'failed' && status.previous !== 'failed') {
        const failure = describeFailure(status);
        if (readNotificationLevel() !== 'off') {
          void showMessageWithActions(failure.message, failure.actions);
        }
      }
      if (status.state === 'reconnecting' && status.previous !== 'reconnecting' && readNotificationLevel() === 'always') {
        vscode.window.setStatusBarMessage(`VoicePilot: reconnecting (${status.reason ?? 'connection lost'})`, 5_000);
      }
    }),
    { dispose: live.onChange(() => undefined) },
  );
}

/** Starts a conversation (or a dictation) with the settings as they are now. */
async function startConversation(controller: Controller, mode: 'conversation' | 'dictation'): Promise<void> {
  const { sidecar, state, transcript } = controller;
  // The status bar runs this command whatever the state; enablement only greys out menu entries.
  if (state.conversationActive) {
    void vscode.window.showInformationMessage(`VoicePilot is already in a conversation (${state.current.state}).`);
    return;
  }
  try {
    const settings = readConversationSettings();
    const params: StartSessionParams = buildStartSessionParams(settings, mode);
    state.beginConversation(mode === 'dictation', settings.turnTaking === 'pushToTalk');
    controller.live.markSound(Date.now());
    void transcript.reveal(false);
    const { sessionId } = await sidecar.request(Methods.startSession, params);
    state.sessionId = sessionId;
  } catch (error) {
    state.beginConversation(false, false);
    await reportError('start a conversation', error);
  }
}

async function endConversation({ sidecar, state }: Controller): Promise<void> {
  try {
    await sidecar.requestIfRunning(Methods.endSession, { sessionId: state.sessionId });
  } catch (error) {
    await reportError('end the conversation', error);
  }
}

/**
 * The status bar's click and the keybinding. VS Code reports no key releases, so one tap starts
 * and the next one stops: with no conversation, it starts one; in a push-to-talk conversation it
 * opens or closes the microphone; otherwise it interrupts the assistant while it speaks, and ends
 * the conversation when it does not. A stopped sidecar is restarted.
 */
async function toggleTalking(controller: Controller): Promise<void> {
  const { state, sidecar, live } = controller;
  if (state.sidecarStopped !== undefined) {
    await restartSidecar(controller);
    return;
  }
  if (!state.conversationActive) {
    await startConversation(controller, 'conversation');
    return;
  }
  if (state.current.state !== 'connected') {
    await endConversation(controller);
    return;
  }
  const activity = live.activity({ muted: state.muted, pushToTalk: state.pushToTalk, dictating: state.dictating });
  if (!state.pushToTalk && !activity.assistantSpeaking) {
    await endConversation(controller);
    return;
  }
  const pressed = state.pushToTalk ? !state.isTalking : true;
  try {
    const result = await sidecar.requestIfRunning(Methods.pushToTalk, { pressed });
    if (result?.accepted === true) {
      if (state.pushToTalk) {
        state.setTalking(pressed);
        live.markSound(Date.now());
      }
    } else {
      vscode.window.setStatusBarMessage('VoicePilot: push to talk is not in use right now', 4_000);
    }
  } catch (error) {
    await reportError('switch the microphone', error);
  }
}

/** Talking stops by itself after voicepilot.talk.silenceTimeoutSeconds of silence. */
async function stopAfterSilence(controller: Controller): Promise<void> {
  const { state, live, sidecar, log } = controller;
  const timeoutS = readSilenceTimeoutS();
  const silentMs = live.silentForMs(Date.now());
  if (timeoutS <= 0 || silentMs === undefined || silentMs < timeoutS * 1000 || state.current.state !== 'connected') {
    return;
  }
  live.markSound(Date.now());
  if (state.pushToTalk) {
    if (state.isTalking) {
      log.info(`Push to talk released after ${timeoutS} s of silence.`);
      state.setTalking(false);
      await sidecar.requestIfRunning(Methods.pushToTalk, { pressed: false }).catch(() => undefined);
    }
    return;
  }
  log.info(`The conversation ended after ${timeoutS} s of silence.`);
  vscode.window.setStatusBarMessage(`VoicePilot: stopped after ${timeoutS} s of silence`, 5_000);
  await endConversation(controller);
}

/** Dictate at Cursor: starts a dictation, or ends the one that runs. */
async function dictate(controller: Controller): Promise<void> {
  if (controller.state.dictating) {
    await endConversation(controller);
    return;
  }
  if (vscode.window.activeTextEditor === undefined) {
    void vscode.window.showInformationMessage('VoicePilot: open a file and put the cursor where the text should go.');
    return;
  }
  await startConversation(controller, 'dictation');
}

async function setMute({ sidecar, state }: Controller, muted: boolean): Promise<void> {
  try {
    const result = await sidecar.request(Methods.setMute, { muted });
    state.setMuted(result.muted);
    vscode.window.setStatusBarMessage(`VoicePilot: microphone ${result.muted ? 'muted' : 'on'}`, 3_000);
  } catch (error) {
    await reportError(muted ? 'mute the microphone' : 'unmute the microphone', error);
  }
}

interface DeviceItem extends vscode.QuickPickItem {
  readonly deviceName: string;
}

/** Select Microphone / Select Speaker: the sidecar lists the devices; the choice is remembered in the settings. */
async function selectDevice({ sidecar }: Controller, kind: 'input' | 'output'): Promise<void> {
  const what = kind === 'input' ? 'microphone' : 'speaker';
  try {
    const listing = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `VoicePilot: listing the ${what}s` },
      () => sidecar.request(Methods.listDevices, {}),
    );
    const devices: AudioDevice[] = kind === 'input' ? listing.inputs : listing.outputs;
    const selected = kind === 'input' ? listing.selectedInput : listing.selectedOutput;
    const items: DeviceItem[] = [
      { label: '$(settings) System default', deviceName: '', picked: selected === undefined },
      ...devices.map((device) => ({
        label: `${device.name === selected ? '$(check)' : '$(blank)'} ${device.name}`,
        description: [device.description, device.isDefault ? 'default' : undefined].filter(Boolean).join(' · '),
        detail: `${device.hostApi}, ${device.channels} channel(s), ${device.sampleRate} Hz`,
        deviceName: device.name,
      })),
    ];
    if (devices.length === 0) {
      void vscode.window.showWarningMessage(`VoicePilot: no ${what} was found.`);
      return;
    }
    const picked = await vscode.window.showQuickPick(items, { title: `VoicePilot: Select ${what === 'microphone' ? 'Microphone' : 'Speaker'}` });
    if (picked === undefined) {
      return;
    }
    await sidecar.request(Methods.selectDevices, kind === 'input' ? { input: picked.deviceName } : { output: picked.deviceName });
    // A running conversation switched already; the restart the setting would cause is not needed.
    suppressRestartOnce = true;
    await vscode.workspace
      .getConfiguration(CONFIGURATION_SECTION)
      .update(kind === 'input' ? 'audio.inputDevice' : 'audio.outputDevice', picked.deviceName, vscode.ConfigurationTarget.Global);
  } catch (error) {
    await reportError(`select a ${what}`, error);
  }
}

/** Set by a change the running conversation already follows (a device switch). */
let suppressRestartOnce = false;

async function setApiKey({ apiKey }: Controller): Promise<void> {
  if (await apiKey.promptAndStore()) {
    vscode.window.setStatusBarMessage('VoicePilot: API key stored', 4_000);
  }
}

async function clearApiKey({ apiKey }: Controller): Promise<void> {
  await apiKey.clear();
  vscode.window.setStatusBarMessage('VoicePilot: API key cleared', 4_000);
}

async function signInWithEntra(): Promise<void> {
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

async function useProfile(profile: 'local' | 'azure'): Promise<void> {
  await vscode.workspace.getConfiguration(CONFIGURATION_SECTION).update('profile', profile, vscode.ConfigurationTarget.Global);
  vscode.window.setStatusBarMessage(
    profile === 'local' ? 'VoicePilot: using the local engine' : 'VoicePilot: using Azure OpenAI',
    4_000,
  );
}

/** Use Azure OpenAI: asks for what is missing (endpoint, deployment, a credential), then switches. */
async function useAzure({ apiKey }: Controller): Promise<void> {
  const config = vscode.workspace.getConfiguration(CONFIGURATION_SECTION);
  if (config.get<string>('azure.endpoint', '').trim() === '') {
    const endpoint = await vscode.window.showInputBox({
      title: 'VoicePilot: Azure OpenAI endpoint',
      prompt: 'The endpoint of your Azure OpenAI resource',
      placeHolder: 'https://my-resource.openai.azure.com',
      ignoreFocusOut: true,
      validateInput: (value) => (/^https:\/\/[^/\s]+/.test(value.trim()) ? undefined : 'Enter an https URL.'),
    });
    if (endpoint === undefined) {
      return;
    }
    await config.update('azure.endpoint', endpoint.trim(), vscode.ConfigurationTarget.Global);
  }
  if (config.get<string>('azure.deployment', '').trim() === '') {
    const deployment = await vscode.window.showInputBox({
      title: 'VoicePilot: realtime deployment',
      prompt: 'The name of the gpt-realtime deployment in that resource',
      value: 'gpt-realtime',
      ignoreFocusOut: true,
    });
    if (deployment === undefined) {
      return;
    }
    await config.update('azure.deployment', deployment.trim(), vscode.ConfigurationTarget.Global);
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

async function showTranscript({ transcript }: Controller): Promise<void> {
  await vscode.commands.executeCommand(`${Views.transcript}.focus`);
  await transcript.reveal(true);
}

/** The extension's checks, then the sidecar's (which test a real connection), in the diagnostics view. */
async function runDiagnostics(controller: Controller): Promise<void> {
  const { sidecar, log, diagnostics, settingsDiagnostics, apiKey } = controller;
  diagnostics.setRunning(true);
  await vscode.commands.executeCommand(`${Views.diagnostics}.focus`);
  const checks: DiagnosticCheck[] = [];
  try {
    await settingsDiagnostics.refresh();
    const settings = readConversationSettings();
    const devices = await sidecar
      .request(Methods.listDevices, {})
      .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    checks.push(
      ...localChecks({
        settingsProblems: [...settingsDiagnostics.current.values()].flat().map((problem) => problem.message),
        profile: settings.profile,
        auth: settings.azureAuth ?? 'apiKey',
        hasApiKey: (await apiKey.get()) !== undefined,
        inputFile:
          settings.inputFile === undefined
            ? undefined
            : { path: settings.inputFile, exists: await fs.stat(settings.inputFile).then((stat) => stat.isFile(), () => false) },
        devices,
      }),
    );
    const remote = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'VoicePilot: running connection diagnostics' },
      () => {
        // Probe what a conversation would use now, not whatever the last one used.
        const { profile, connection } = buildStartSessionParams(settings);
        return sidecar.request(Methods.runDiagnostics, connection === undefined ? { profile } : { profile, connection });
      },
    );
    checks.push(...remote.checks);
  } catch (error) {
    checks.push({
      name: 'sidecar',
      ok: false,
      detail: `The sidecar could not run its checks: ${error instanceof Error ? error.message : String(error)}`,
      nextStep: "Run 'VoicePilot: Show Logs', then 'VoicePilot: Restart Sidecar'.",
    });
  }
  for (const check of checks) {
    const line = `Diagnostics: ${check.name}: ${check.ok ? 'passed' : 'FAILED'}: ${check.detail}${check.nextStep && !check.ok ? ` (next step: ${check.nextStep})` : ''}`;
    if (check.ok) {
      log.info(line);
    } else {
      log.warn(line);
    }
  }
  diagnostics.setChecks(checks);
  await diagnostics.reveal().catch(() => undefined);
}

async function restartSidecar({ sidecar }: Controller): Promise<void> {
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'VoicePilot: restarting the sidecar' },
      () => sidecar.restart(),
    );
  } catch (error) {
    await reportError('restart the sidecar', error);
  }
}

/** A stored key is handed over; a cleared one is forgotten only by a new sidecar process. */
async function deliverApiKey(controller: Controller): Promise<void> {
  const { apiKey, sidecar, log, contextKeys } = controller;
  try {
    const key = await apiKey.get();
    contextKeys.set(ContextKeys.hasApiKey, key !== undefined);
    if (key === undefined) {
      await restartForChange(controller, 'The API key was cleared; the sidecar forgets it when it restarts.');
    } else if (sidecar.isRunning && (await apiKey.sendTo(sidecar.request))) {
      log.info('The sidecar has the new API key.');
    }
  } catch (error) {
    await reportError('hand the API key to the sidecar', error);
  }
}

/**
 * A setting the conversation was started with changed: the conversation is ended and started
 * again with the new settings (a dictation ends), so no half-applied configuration runs.
 */
async function restartConversation(controller: Controller): Promise<void> {
  const { state, log } = controller;
  if (suppressRestartOnce) {
    suppressRestartOnce = false;
    return;
  }
  if (!state.conversationActive) {
    return;
  }
  const dictating = state.dictating;
  log.info('A setting of the running conversation changed: restarting the conversation.');
  await endConversation(controller);
  await waitUntilInactive(state);
  if (!dictating) {
    await startConversation(controller, 'conversation');
  }
}

function waitUntilInactive(state: ConnectionStateStore): Promise<void> {
  return new Promise((resolve) => {
    if (!state.conversationActive) {
      resolve();
      return;
    }
    const timer = setTimeout(() => finish(), 10_000);
    const subscription = state.onDidChange(() => {
      if (!state.conversationActive) {
        finish();
      }
    });
    function finish(): void {
      clearTimeout(timer);
      subscription.dispose();
      resolve();
    }
  });
}

/**
 * Restarts a running sidecar so it picks up `reason`'s change: at once when that cuts no
 * conversation short, otherwise when the user agrees. A stopped sidecar picks it up when it starts.
 */
async function restartForChange({ sidecar, state, log }: Controller, reason: string): Promise<void> {
  if (!sidecar.isRunning) {
    return;
  }
  log.info(`${reason} Restarting the sidecar${state.conversationActive ? ' if the user agrees' : ''}.`);
  if (state.conversationActive) {
    const restart = 'Restart Sidecar';
    const choice = await vscode.window.showInformationMessage(
      `VoicePilot: ${reason} Restart the sidecar now? That ends the conversation.`,
      restart,
    );
    if (choice !== restart) {
      return;
    }
  }
  try {
    await sidecar.restart();
  } catch (error) {
    await reportError('restart the sidecar', error);
  }
}
