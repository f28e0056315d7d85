// The microphone during a conversation: Push to Talk (the status bar's click and the
// keybinding), Mute and Unmute, and the stop after a long silence.
import * as vscode from 'vscode';
import { Methods } from '../sidecar/contract';
import { readSilenceTimeoutS } from '../settings/settings';
import { reportError } from '../views/messages';
import { endConversation, startConversation } from './conversation';
import type { Controller } from './controller';
import { restartSidecar } from './sidecar';

/**
 * VS Code reports no key releases, so one tap starts and the next one stops: with no
 * conversation, it starts one; in a push-to-talk conversation it opens or closes the microphone;
 * otherwise it interrupts the assistant while it speaks, and ends the conversation when it does
 * not. A stopped sidecar is restarted.
 */
export async function toggleTalking(controller: Controller): Promise<void> {
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

export async function setMute({ sidecar, state }: Controller, muted: boolean): Promise<void> {
  try {
    const result = await sidecar.request(Methods.setMute, { muted });
    state.setMuted(result.muted);
    vscode.window.setStatusBarMessage(`VoicePilot: microphone ${result.muted ? 'muted' : 'on'}`, 3_000);
  } catch (error) {
    await reportError(muted ? 'mute the microphone' : 'unmute the microphone', error);
  }
}

/** Talking stops by itself after voicepilot.talk.silenceTimeoutSeconds of silence. */
export async function stopAfterSilence(controller: Controller): Promise<void> {
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
