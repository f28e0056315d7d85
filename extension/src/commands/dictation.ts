// Dictate at Cursor: starts a dictation, or ends the one that runs (conversation/dictation.ts
// types what is said).
import * as vscode from 'vscode';
import { endConversation, startConversation } from './conversation';
import type { Controller } from './controller';

export async function dictate(controller: Controller): Promise<void> {
  if (controller.state.dictating) {
    await endConversation(controller);
    return;
  }
  if (vscode.window.activeTextEditor === undefined) {
    void vscode.window.showInformationMessage('VoicePilot: open a file and put the cursor where the text should go.');
    return;
  }
  await startConversation(controller, 'dictation');
}
