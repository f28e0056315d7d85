// Entry point, wiring only: activate() makes the parts and hands each its collaborators; the
// parts do the work. Folders: sidecar/ (the Python process and its contract), conversation/ (what
// the sidecar says about the running conversation), views/, settings/, tools/ (the editor tools
// the model calls), environment/ (the voice engine's Python, set up on first use), commands/.
import * as vscode from 'vscode';
import { FollowedChange, registerCommands, registerReactions, type Controller } from './commands';
import { Dictation } from './conversation/dictation';
import { LiveSession } from './conversation/liveSession';
import { ConnectionStateStore } from './conversation/state';
import { ApiKeyStore } from './settings/credentials';
import { SettingsDiagnostics, userSettingsFile } from './settings/diagnostics';
import { describeInputDevice, readNotificationLevel, readRenewIntervalS } from './settings/settings';
import { Sidecar } from './sidecar/client';
import { registerSidecarHandlers, sidecarEvents, type SidecarEvents } from './sidecar/handlers';
import { pythonExtensionInterpreter, pythonLookup } from './sidecar/interpreter';
import { sidecarLifecycle } from './sidecar/lifecycle';
import { userToolPolicy, type ToolPolicy } from './tools/tools';
import { ContextKeyPublisher } from './contextKeys';
import { SidecarPython } from './environment/setupUi';
import { DiagnosticsView } from './views/diagnosticsView';
import { showDeviceNotice } from './views/messages';
import { ConnectionStatusBar } from './views/statusBar';
import { TranscriptView } from './views/transcriptView';

/** Kept for deactivate(), which VS Code calls without arguments and awaits. */
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
  const toolPolicy = userToolPolicy();
  const events = sidecarEvents({
    state,
    live,
    log,
    onTranscript: (line) => transcript.append(line),
    onDeviceState: (change) => void showDeviceNotice(change, readNotificationLevel()),
    tools: toolPolicy,
  });
  const { extensionPath } = context;
  const sidecarPython = new SidecarPython({
    context,
    log,
    lookup: () => pythonLookup(extensionPath),
    pythonExtensionInterpreter: () => pythonExtensionInterpreter(log, vscode.workspace.workspaceFolders?.[0]?.uri),
  });
  sidecar = new Sidecar({
    extensionPath,
    log,
    findInterpreter: () => sidecarPython.interpreter(),
    registerHandlers: (client) => registerSidecarHandlers(client, events),
    ...sidecarLifecycle({ state, contextKeys, apiKey, log }),
  });
  const statusBar = new ConnectionStatusBar({
    state,
    live,
    renewIntervalS: readRenewIntervalS,
    workspaceTrusted: () => vscode.workspace.isTrusted,
    inputDevice: describeInputDevice,
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
    followedChange: new FollowedChange(),
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

  // Activation only shows the status-bar item: the sidecar (and the voice engine's setup) waits
  // for the first command or view that needs it, so a window that never talks runs no Python.
  return { controller, statusBar, events, toolPolicy };
}

export async function deactivate(): Promise<void> {
  await sidecar?.stop();
  sidecar = undefined;
}
