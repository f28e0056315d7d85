// The conversation as text: the final user and assistant lines in an output channel.
import * as vscode from 'vscode';
import type { TranscriptParams } from './contract';

export class TranscriptChannel implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('VoicePilot Transcript');
  /** The session whose transcript was last brought into view, so it is revealed once per session. */
  private revealedSession: string | undefined;

  /** Takes a voicepilot/transcript notification; partial lines are skipped until they are final. */
  append(line: TranscriptParams): void {
    if (!line.final || line.text.trim() === '') {
      return;
    }
    const speaker = line.role === 'user' ? 'You' : 'VoicePilot';
    this.channel.appendLine(`[${new Date().toLocaleTimeString()}] ${speaker}: ${line.text.trim()}`);
    const session = line.sessionId ?? '';
    if (session !== this.revealedSession) {
      this.revealedSession = session;
      // Keeps the keyboard where it was: the user may be dictating into an editor.
      this.channel.show(true);
    }
  }

  dispose(): void {
    this.channel.dispose();
  }
}
