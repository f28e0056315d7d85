// The VoicePilot commands, and the reactions to changes that, like them, end in a request to the
// sidecar or a restart of it: a new API key, a new interpreter, a failed conversation.
import * as vscode from 'vscode';
import { Methods } from './contract';
import type { ApiKeyStore } from './credentials';
import { Commands, type CommandId } from './ids';
import { reportError, showErrorWithActions } from './messages';
import { describeDiagnostics, describeFailure } from './presentation';
import { buildStartSessionParams } from './sessionParams';
import { INTERPRETER_SETTING, readConversationSettings } from './settings';
import type { Sidecar } from './sidecar';
import type { ConnectionStateStore } from './state';

export interface Controller {
  readonly sidecar: Sidecar;
  readonly state: ConnectionStateStore;
  readonly apiKey: ApiKeyStore;
  readonly log: vscode.LogOutputChannel;
}

export function registerCommands(controller: Controller): vscode.Disposable {
  const handlers: Readonly<Record<CommandId, () => Promise<void> | void>> = {
    [Commands.startConversation]: () => startConversation(controller),
    [Commands.endConversation]: () => endConversation(controller),
    [Commands.pushToTalk]: () => pushToTalk(controller),
    [Commands.setApiKey]: () => setApiKey(controller),
    [Commands.clearApiKey]: () => clearApiKey(controller),
    [Commands.runDiagnostics]: () => runDiagnostics(controller),
    [Commands.restartSidecar]: () => restartSidecar(controller),
    [Commands.showLogs]: () => controller.log.show(),
  };
  return vscode.Disposable.from(
    ...Object.entries(handlers).map(([command, handler]) => vscode.commands.registerCommand(command, handler)),
  );
}

/** Keeps the sidecar in step with what changes outside the commands, and reports failures. */
export function registerReactions(controller: Controller): vscode.Disposable {
  const { apiKey, state } = controller;
  return vscode.Disposable.from(
    // SecretStorage reports this window's changes too: the one place a new key is sent from.
    apiKey.onDidChange(() => void deliverApiKey(controller)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(INTERPRETER_SETTING)) {
        void restartForChange(controller, 'The Python interpreter setting changed.');
      }
    }),
    // A trusted workspace may use its own `.venv`.
    vscode.workspace.onDidGrantWorkspaceTrust(
      () => void restartForChange(controller, "The workspace is trusted now, so its .venv may be used."),
    ),
    state.onDidChange((status) => {
      if (status.state === 'failed' && status.previous !== 'failed') {
        const failure = describeFailure(status);
        void showErrorWithActions(failure.message, failure.actions);
      }
    }),
  );
}

async function startConversation({ sidecar, state }: Controller): Promise<void> {
  // The status bar runs this command whatever the state; enablement only greys out menu entries.
  if (state.conversationActive) {
    void vscode.window.showInformationMessage(`VoicePilot is already in a conversation (${state.current.state}).`);
    return;
  }
  try {
    const params = buildStartSessionParams(readConversationSettings());
    const { sessionId } = await sidecar.request(Methods.startSession, params);
    state.sessionId = sessionId;
  } catch (error) {
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

/** Toggles: VS Code reports no key releases, so one press starts talking and the next one stops. */
async function pushToTalk({ sidecar, state }: Controller): Promise<void> {
  const pressed = !state.isTalking;
  try {
    const result = await sidecar.requestIfRunning(Methods.pushToTalk, { pressed });
    if (result?.accepted === true) {
      state.setTalking(pressed);
    } else {
      // Refused without a conversation, and in one that detects speech turns by itself.
      vscode.window.setStatusBarMessage('VoicePilot: push to talk is not in use right now', 4_000);
    }
  } catch (error) {
    await reportError('switch the microphone', error);
  }
}

async function setApiKey({ apiKey }: Controller): Promise<void> {
  if (await apiKey.promptAndStore()) {
    vscode.window.setStatusBarMessage('VoicePilot: API key stored', 4_000);
  }
}

async function clearApiKey({ apiKey }: Controller): Promise<void> {
  await apiKey.clear();
  vscode.window.setStatusBarMessage('VoicePilot: API key cleared', 4_000);
}

async function runDiagnostics({ sidecar, log }: Controller): Promise<void> {
  try {
    const { checks } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'VoicePilot: running connection diagnostics…' },
      () => sidecar.request(Methods.runDiagnostics, {}),
    );
    for (const check of checks) {
      const line = `Diagnostics: ${check.name}: ${check.detail}${check.nextStep ? ` (next step: ${check.nextStep})` : ''}`;
      if (check.ok) {
        log.info(line);
      } else {
        log.warn(line);
      }
    }
    const view = describeDiagnostics(checks);
    await vscode.window.showQuickPick(view.items, { title: view.title, matchOnDescription: true, matchOnDetail: true });
  } catch (error) {
    await reportError('run the connection diagnostics', error);
  }
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
  const { apiKey, sidecar, log } = controller;
  try {
    if ((await apiKey.get()) === undefined) {
      await restartForChange(controller, 'The API key was cleared; the sidecar forgets it when it restarts.');
    } else if (sidecar.isRunning && (await apiKey.sendTo(sidecar.request))) {
      log.info('The sidecar has the new API key.');
    }
  } catch (error) {
    await reportError('hand the API key to the sidecar', error);
  }
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
