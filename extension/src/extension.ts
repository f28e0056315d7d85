// Entry point: creates the parts and connects them. The parts do the work; see each module.
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { registerCommands, registerReactions } from './commands';
import { ApiKeyStore } from './credentials';
import { reportError, showErrorWithActions } from './messages';
import { findPython } from './python';
import { pythonExtensionInterpreter } from './pythonExtension';
import { firstWorkspaceFolder, readConfiguredPython } from './settings';
import { Sidecar } from './sidecar';
import { registerSidecarHandlers } from './sidecarHandlers';
import { ConnectionStateStore } from './state';
import { ConnectionStatusBar } from './statusBar';
import { TranscriptChannel } from './transcript';

let sidecar: Sidecar | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('VoicePilot', { log: true });
  const state = new ConnectionStateStore();
  const transcript = new TranscriptChannel();
  const apiKey = new ApiKeyStore(context.secrets);
  const { extensionPath } = context;

  sidecar = new Sidecar({
    extensionPath,
    log,
    findInterpreter: () =>
      findPython({
        configuredPath: readConfiguredPython(),
        // An untrusted workspace must not choose the program VoicePilot runs.
        workspaceFolder: vscode.workspace.isTrusted ? firstWorkspaceFolder() : undefined,
        extensionPath,
        platform: process.platform,
        isFile: async (filePath) => (await fs.stat(filePath).catch(() => undefined))?.isFile() === true,
        pythonExtensionInterpreter: () => pythonExtensionInterpreter(log, vscode.workspace.workspaceFolders?.[0]?.uri),
      }),
    registerHandlers: (client) => registerSidecarHandlers(client, { state, transcript, log }),
    onStarted: async (request) => {
      state.reset();
      if (await apiKey.sendTo(request)) {
        log.info('The sidecar has the stored API key.');
      }
    },
    onExited: () => state.reset('The VoicePilot sidecar stopped unexpectedly.'),
    onStopped: (reason, gaveUp) => {
      state.markSidecarStopped(reason);
      if (gaveUp) {
        void showErrorWithActions('VoicePilot: the sidecar keeps stopping, so it is not restarted again.', [
          'showLogs',
          'restartSidecar',
        ]);
      }
    },
  });

  const controller = { sidecar, state, apiKey, log };
  // Disposed in this order, after deactivate(): the log goes last so every part can still write to it.
  context.subscriptions.push(
    registerCommands(controller),
    registerReactions(controller),
    sidecar,
    new ConnectionStatusBar(state),
    state,
    transcript,
    apiKey,
    log,
  );

  sidecar.start().catch((error: unknown) => reportError('start', error));
}

export async function deactivate(): Promise<void> {
  await sidecar?.stop();
  sidecar = undefined;
}
