// Error messages with buttons that lead to the fix (the actions are chosen in presentation.ts).
import * as vscode from 'vscode';
import { ResponseError } from 'vscode-languageclient/node';
import type { DeviceStateParams } from './contract';
import { Commands, EXTENSION_ID } from './ids';
import {
  describeDeviceNotice,
  describeRequestFailure,
  FAILURE_ACTION_LABELS,
  type FailureAction,
} from './presentation';
import type { NotificationLevel } from './settings';
import { SidecarStartError } from './sidecar';

/** Shows `message` with a button per action and carries out the one the user picks. */
export async function showErrorWithActions(message: string, actions: readonly FailureAction[]): Promise<void> {
  const labels = actions.map((action) => FAILURE_ACTION_LABELS[action]);
  const picked = await vscode.window.showErrorMessage(message, ...labels);
  const action = actions.find((candidate) => FAILURE_ACTION_LABELS[candidate] === picked);
  if (action !== undefined) {
    await runFailureAction(action);
  }
}

async function runFailureAction(action: FailureAction): Promise<void> {
  switch (action) {
    case 'openSettings':
      await vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${EXTENSION_ID}`);
      return;
    case 'setApiKey':
      await vscode.commands.executeCommand(Commands.setApiKey);
      return;
    case 'runDiagnostics':
      await vscode.commands.executeCommand(Commands.runDiagnostics);
      return;
    case 'restartSidecar':
      await vscode.commands.executeCommand(Commands.restartSidecar);
      return;
    case 'showLogs':
      await vscode.commands.executeCommand(Commands.showLogs);
      return;
  }
}

/** Reports a failed command, with the buttons that fix what the error says went wrong. */
export async function reportError(whatFailed: string, error: unknown): Promise<void> {
  if (error instanceof SidecarStartError) {
    await showErrorWithActions(error.message, ['openSettings', 'showLogs']);
    return;
  }
  const reason = error instanceof Error ? error.message : String(error);
  const data = error instanceof ResponseError ? (error.data as unknown) : undefined;
  const { message, actions } = describeRequestFailure(whatFailed, reason, data);
  await showErrorWithActions(message, actions);
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
    case 'warning': {
      const picked = await vscode.window.showWarningMessage(notice.message, notice.actionLabel);
      if (picked === notice.actionLabel) {
        await vscode.commands.executeCommand(notice.command);
      }
      return;
    }
  }
}
