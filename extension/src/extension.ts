// Entry point: creates the parts and connects them. The parts do the work; see each module.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCommands, registerReactions, type Controller } from './commands';
import { ContextKeyPublisher } from './contextKeys';
import { ApiKeyStore } from './credentials';
import { Dictation } from './dictation';
import { DiagnosticsView } from './diagnosticsView';
import { ContextKeys } from './ids';
import { LiveSession } from './liveSession';
import { reportError, showDeviceNotice, showMessageWithActions } from './messages';
import { SetupError } from './environment/setupErrors';
import { showSetupFailure, SidecarPython } from './environment/setupUi';
import { pythonExtensionInterpreter } from './pythonExtension';
import {
  firstWorkspaceFolder,
  readAllowedSecretFiles,
  readConfirmDestructive,
  readConfiguredPython,
  readConversationSettings,
  readExtraAllowedCommands,
  readNotificationLevel,
  readRenewIntervalS,
} from './settings';
import { SettingsDiagnostics, userSettingsFile } from './settingsDiagnostics';
import { Sidecar } from './sidecar';
import { registerSidecarHandlers, sidecarEvents, type SidecarEvents } from './sidecarHandlers';
import { ConnectionStateStore } from './state';
import { ConnectionStatusBar } from './statusBar';
import { askUser, type ToolPolicy } from './tools';
import { TranscriptView } from './transcriptView';

let sidecar: Sidecar | undefined;

/**
 * What activate() returns: read-only views of the parts, and the handlers of the sidecar's
 * messages, for the extension-host tests (tests/extension/host).
 */
export interface VoicePilotApi {
  readonly controller: Controller;
  readonly statusBar: ConnectionStatusBar;
  readonly events: SidecarEvents;
  /** The tool policy the tools apply, as read from the settings now. */
  readonly toolPolicy: ToolPolicy;
}

export function activate(context: vscode.ExtensionContext): VoicePilotApi {
  const log = vscode.window.createOutputChannel('VoicePilot', { log: true });
  const contextKeys = new ContextKeyPublisher();
  const state = new ConnectionStateStore(contextKeys);
  const live = new LiveSession();
  const transcript = new TranscriptView();
  const diagnostics = new DiagnosticsView(live);
  const settingsDiagnostics = new SettingsDiagnostics(userSettingsFile(context.globalStorageUri));
  const apiKey = new ApiKeyStore(context.secrets);
  const { extensionPath } = context;

  const toolPolicy: ToolPolicy = {
    extraCommands: readExtraAllowedCommands,
    confirmDestructive: readConfirmDestructive,
    allowedSecretFiles: readAllowedSecretFiles,
    workspaceTrusted: () => vscode.workspace.isTrusted,
    confirm: askUser,
  };
  const events = sidecarEvents({
    state,
    live,
    log,
    onTranscript: (line) => transcript.append(line),
    onDeviceState: (change) => void showDeviceNotice(change, readNotificationLevel()),
    tools: toolPolicy,
  });
  const sidecarPython = new SidecarPython({
    context,
    log,
    lookup: () => ({
      // An untrusted workspace must not choose the program VoicePilot runs.
      configuredPath: readConfiguredPython(vscode.workspace.isTrusted),
      workspaceFolder: firstWorkspaceFolder(),
      workspaceTrusted: vscode.workspace.isTrusted,
      extensionPath,
      platform: process.platform,
    }),
    pythonExtensionInterpreter: () => pythonExtensionInterpreter(log, vscode.workspace.workspaceFolders?.[0]?.uri),
  });
  sidecar = new Sidecar({
    extensionPath,
    log,
    findInterpreter: () =>
      sidecarPython.interpreter().catch((error: unknown) => {
        if (error instanceof SetupError) {
          void showSetupFailure(error, sidecarPython);
        }
        throw error;
      }),
    registerHandlers: (client) => registerSidecarHandlers(client, events),
    onStarted: async (request) => {
      state.reset();
      contextKeys.set(ContextKeys.sidecarRunning, true);
      if (await apiKey.sendTo(request)) {
        log.info('The sidecar has the stored API key.');
      }
      if (state.muted) {
        await request('voicepilot/setMute', { muted: true });
      }
    },
    onExited: () => {
      contextKeys.set(ContextKeys.sidecarRunning, false);
      state.reset('The VoicePilot sidecar stopped unexpectedly.');
    },
    onStopped: (reason, gaveUp) => {
      contextKeys.set(ContextKeys.sidecarRunning, false);
      state.markSidecarStopped(reason);
      if (gaveUp) {
        void showMessageWithActions('VoicePilot: the sidecar keeps stopping, so it is not restarted again.', [
          'showLogs',
          'restartSidecar',
        ]);
      }
    },
  });

  const statusBar = new ConnectionStatusBar({
    state,
    live,
    renewIntervalS: readRenewIntervalS,
    workspaceTrusted: () => vscode.workspace.isTrusted,
    inputDevice: () => {
      const settings = readConversationSettings();
      if (settings.inputFile !== undefined) {
        return `${path.basename(settings.inputFile)} (file)`;
      }
      return settings.inputDevice !== undefined && settings.inputDevice !== '' ? settings.inputDevice : 'system default microphone';
    },
  });
  const controller: Controller = {
    sidecar,
    state,
    apiKey,
    log,
    live,
    transcript,
    diagnostics,
    settingsDiagnostics,
    contextKeys,
  };
  // Disposed in this order, after deactivate(): the log goes last so every part can still write to it.
  context.subscriptions.push(
    registerCommands(controller),
    registerReactions(controller),
    sidecar,
    statusBar,
    new Dictation(state, transcript.onDidChangeTurn),
    transcript,
    diagnostics,
    settingsDiagnostics,
    state,
    apiKey,
    log,
  );

  // At window startup only a sidecar that needs no setup starts; the voice engine is set up on first use.
  void sidecarPython
    .ifReady()
    .then((ready) => (ready === undefined ? undefined : sidecar?.start()))
    .catch((error: unknown) => reportError('start', error));
  return { controller, statusBar, events, toolPolicy };
}

export async function deactivate(): Promise<void> {
  await sidecar?.stop();
  sidecar = undefined;
}
