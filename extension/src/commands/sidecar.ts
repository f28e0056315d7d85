// Restart Sidecar, and the restarts that a change of the key, the interpreter or the workspace's
// trust calls for.
import * as vscode from 'vscode';
import { ContextKeys } from '../ids';
import { reportError } from '../views/messages';
import type { Controller } from './controller';

export async function restartSidecar({ sidecar }: Controller): Promise<void> {
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'VoicePilot: restarting the sidecar' },
      () => sidecar.restart(),
    );
  } catch (error) {
    await reportError('restart the sidecar', error);
  }
}

/**
 * Restarts a running sidecar so it picks up `reason`'s change: at once when that cuts no
 * conversation short, otherwise when the user agrees. A stopped sidecar picks it up when it starts.
 */
export async function restartForChange({ sidecar, state, log }: Controller, reason: string): Promise<void> {
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

/** The TURN password (or its absence) is handed over as it is now; the next conversation uses it. */
export async function deliverTurnPassword(controller: Controller): Promise<void> {
  const { apiKey, sidecar, log } = controller;
  try {
    if (sidecar.isRunning) {
      await apiKey.sendTo(sidecar.request, true);
      log.info('The sidecar has the TURN password as it is stored now.');
    }
  } catch (error) {
    await reportError('hand the TURN password to the sidecar', error);
  }
}

/** A stored key is handed over; a cleared one is forgotten only by a new sidecar process. */
export async function deliverApiKey(controller: Controller): Promise<void> {
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
