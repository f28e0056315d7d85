// Start Conversation and End Conversation, and the restart of a running conversation when a
// setting it was started with changes.
import * as vscode from 'vscode';
import type { ConnectionStateStore } from '../conversation/state';
import { Methods, type StartSessionParams } from '../sidecar/contract';
import { ResponseError } from 'vscode-languageclient/node';
import { Commands } from '../ids';
import { buildStartSessionParams, type ConversationSettings } from '../sidecar/sessionParams';
import { readConversationSettings } from '../settings/settings';
import { reportError } from '../views/messages';
import type { Controller } from './controller';
import { offersTextFallback } from './typedText';

/** Starts a conversation (or a dictation) with the settings as they are now. */
export async function startConversation(controller: Controller, mode: 'conversation' | 'dictation'): Promise<void> {
  const { state } = controller;
  // The status bar runs this command whatever the state; enablement only greys out menu entries.
  if (state.conversationActive) {
    void vscode.window.showInformationMessage(`VoicePilot is already in a conversation (${state.current.state}).`);
    return;
  }
  let settings: ConversationSettings | undefined;
  try {
    settings = readConversationSettings();
    await start(controller, buildStartSessionParams(settings, mode));
  } catch (error) {
    state.beginConversation(false, false);
    const data = error instanceof ResponseError ? (error.data as unknown) : undefined;
    if (settings !== undefined && mode === 'conversation' && settings.modality !== 'text' && offersTextFallback(data)) {
      await offerTyping(controller, settings, error);
      return;
    }
    await reportError('start a conversation', error);
  }
}

async function start(controller: Controller, params: StartSessionParams): Promise<void> {
  const { sidecar, state, transcript } = controller;
  state.beginConversation(params.mode === 'dictation', params.turnTaking === 'pushToTalk');
  controller.live.markSound(Date.now());
  void transcript.reveal(false);
  const { sessionId } = await sidecar.request(Methods.startSession, params);
  state.sessionId = sessionId;
}

/** No audio device works: offer the same conversation typed (voicepilot.conversation.mode text). */
async function offerTyping(controller: Controller, settings: ConversationSettings, error: unknown): Promise<void> {
  const reason = error instanceof Error ? error.message : String(error);
  const typeInstead = 'Type Instead';
  const picked = await vscode.window.showWarningMessage(
    `VoicePilot could not use an audio device: ${reason} You can converse by typing (Send Text Message).`,
    typeInstead,
    'Select Microphone',
  );
  if (picked === 'Select Microphone') {
    await vscode.commands.executeCommand(Commands.selectMicrophone);
    return;
  }
  if (picked !== typeInstead) {
    return;
  }
  try {
    await start(controller, buildStartSessionParams({ ...settings, modality: 'text' }, 'conversation'));
    vscode.window.setStatusBarMessage('VoicePilot: type with "Send Text Message" once connected', 8_000);
  } catch (retryError) {
    controller.state.beginConversation(false, false);
    await reportError('start a typed conversation', retryError);
  }
}

export async function endConversation({ sidecar, state }: Controller): Promise<void> {
  try {
    await sidecar.requestIfRunning(Methods.endSession, { sessionId: state.sessionId });
  } catch (error) {
    await reportError('end the conversation', error);
  }
}

/**
 * A setting the conversation was started with changed: the conversation is ended and started
 * again with the new settings (a dictation ends), so no half-applied configuration runs.
 */
export async function restartConversation(controller: Controller): Promise<void> {
  const { state, log, followedChange } = controller;
  if (followedChange.consume() || !state.conversationActive) {
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
