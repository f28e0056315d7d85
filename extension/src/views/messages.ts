// Error and warning messages with buttons that lead to the fix (the actions are chosen in presentation.ts).
import * as vscode from 'vscode';
import { ResponseError } from 'vscode-languageclient/node';
import type { DeviceStateParams } from '../sidecar/contract';
import { Commands, EXTENSION_ID } from '../ids';
import {
  describeDeviceNotice,
  describeRequestFailure,
  FAILURE_ACTION_LABELS,
  type FailureAction,
} from './presentation';
import type { NotificationLevel } from '../settings/settings';
import { SetupError } from '../environment/setupErrors';
import { SidecarStartError } from '../sidecar/client';

/** Shows `message` with a button per action and carries out the one the user picks. */
export async function showMessageWithActions(
  message: string,
  actions: readonly FailureAction[],
  severity: 'error' | 'warning' = 'error',
): Promise<void> {
  const labels = actions.map((action) => FAILURE_ACTION_LABELS[action]);
  const show = severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
  const picked = await show(message, ...labels);
  const action = actions.find((candidate) => FAILURE_ACTION_LABELS[candidate] === picked);
  if (action !== undefined) {
    await runFailureAction(action);
  }
}

/** The command (and its arguments) behind each button. */
const ACTION_COMMANDS: Readonly<Record<FailureAction, readonly [string, ...string[]]>> = {
  openSettings: ['workbench.action.openSettings', `@ext:${EXTENSION_ID}`],
  setApiKey: [Commands.setApiKey],
  runDiagnostics: [Commands.runDiagnostics],
  restartSidecar: [Commands.restartSidecar],
  showLogs: [Commands.showLogs],
  selectMicrophone: [Commands.selectMicrophone],
  selectSpeaker: [Commands.selectSpeaker],
};

async function runFailureAction(action: FailureAction): Promise<void> {
  await vscode.commands.executeCommand(...ACTION_COMMANDS[action]);
}

/** Reports a failed command, with the buttons that fix what the error says went wrong. */
export async function reportError(whatFailed: string, error: unknown): Promise<void> {
  // Shown where the setup failed, with its own next steps.
  if (error instanceof SetupError) {
    return;
  }
  if (error instanceof SidecarStartError) {
    await showMessageWithActions(error.message, ['openSettings', 'showLogs']);
    return;
  }
  const reason = error instanceof Error ? error.message : String(error);
  const data = error instanceof ResponseError ? (error.data as unknown) : undefined;
  const { message, actions } = describeRequestFailure(whatFailed, reason, data);
  await showMessageWithActions(message, actions);
}

/** How long the status-bar message of a recovered device stays. */
const DEVICE_RECOVERED_MS = 5_000;

/**
 * A device changed state: a warning with a button to the device picker when it is paused or
 * replaced, a passing status-bar message when it works again.
 */
export async function showDeviceNotice(change: DeviceStateParams, notifications: NotificationLevel): Promise<void> {
  const notice = describeDeviceNotice(change, notifications);
  switch (notice.show) {
    case 'nothing':
      return;
    case 'statusBar':
      vscode.window.setStatusBarMessage(notice.message, DEVICE_RECOVERED_MS);
      return;
    case 'warning':
      await showMessageWithActions(notice.message, notice.actions, 'warning');
      return;
  }
}
