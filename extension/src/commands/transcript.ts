// Show Transcript (Export and Clear are the transcript view's own methods).
import * as vscode from 'vscode';
import { Views } from '../ids';
import type { Controller } from './controller';

export async function showTranscript({ transcript }: Controller): Promise<void> {
  await vscode.commands.executeCommand(`${Views.transcript}.focus`);
  await transcript.reveal(true);
}
