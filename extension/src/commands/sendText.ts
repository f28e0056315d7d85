// VoicePilot: Send Text Message, with VS Code's input box or the transcript view's message box
// (the steps are in typedText.ts).
import * as vscode from 'vscode';
import { Methods } from '../sidecar/contract';
import { reportError } from '../views/messages';
import type { Controller } from './controller';
import { sendTypedText } from './typedText';

/** Sends `typed` (the transcript view's message box), else asks for the text with an input box. */
export async function sendText({ sidecar, state }: Controller, typed?: string): Promise<void> {
  try {
    await sendTypedText(
      {
        connected: () => state.current.state === 'connected' || state.current.state === 'renewing',
        ask: async (validate) =>
          typed ??
          vscode.window.showInputBox({
            title: 'VoicePilot: Send Text Message',
            prompt: 'A message for the assistant, answered like a spoken one',
            placeHolder: 'go to line 5',
            validateInput: validate,
          }),
        send: (params) => sidecar.requestIfRunning(Methods.sendText, params),
        tell: (message) => void vscode.window.showInformationMessage(`VoicePilot: ${message}`),
      },
      state.sessionId,
    );
  } catch (error) {
    await reportError('send the message', error);
  }
}
