// Dictate at Cursor: each final user turn of a dictation is typed at the cursor of the editor
// the user works in, as one undoable edit (one Ctrl+Z removes one utterance).
import * as vscode from 'vscode';
import type { ConnectionStateStore } from './state';
import type { Turn } from './transcriptModel';
import { targetEditor } from '../tools/tools';

export class Dictation implements vscode.Disposable {
  private readonly inserted = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly state: ConnectionStateStore,
    onDidChangeTurn: vscode.Event<Turn>,
  ) {
    this.subscription = onDidChangeTurn((turn) => void this.take(turn));
  }

  dispose(): void {
    this.subscription.dispose();
  }

  private async take(turn: Turn): Promise<void> {
    if (!this.state.dictating || turn.role !== 'user' || !turn.final || this.inserted.has(turn.itemId)) {
      return;
    }
    this.inserted.add(turn.itemId);
    const editor = targetEditor();
    if (editor === undefined) {
      void vscode.window.showWarningMessage(`VoicePilot dictation: no editor to type "${turn.text}" into.`);
      return;
    }
    await editor.edit(
      (builder) => {
        for (const selection of editor.selections) {
          builder.replace(selection, dictatedText(editor.document, selection.start, turn.text));
        }
      },
      { undoStopBefore: true, undoStopAfter: true },
    );
  }
}

/** A space before the text unless the cursor starts a line or follows whitespace. */
export function dictatedText(document: vscode.TextDocument, at: vscode.Position, text: string): string {
  const before = at.character === 0 ? '' : document.lineAt(at.line).text.charAt(at.character - 1);
  return before === '' || /\s/.test(before) ? text : ` ${text}`;
}
