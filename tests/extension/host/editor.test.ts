import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { voicePilot } from './api';
import { test, waitFor } from './harness';

async function openNotes(): Promise<vscode.TextEditor> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder);
  const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'notes.txt'));
  return vscode.window.showTextDocument(document, { preview: false });
}

test('the go_to_line tool moves the cursor of the open editor', async () => {
  const { events } = await voicePilot();
  const editor = await openNotes();
  const { output } = await events['voicepilot/runTool']({ callId: 'c1', name: 'go_to_line', arguments: { line: 12 } });

  assert.deepEqual(JSON.parse(output), { ok: true, file: 'notes.txt', line: 12 });
  assert.equal(editor.selection.active.line, 11);
});

test('dictation types the final user text at the cursor, one undo step per utterance', async () => {
  const { events, controller } = await voicePilot();
  const editor = await openNotes();
  const end = editor.document.lineAt(2).range.end;
  editor.selection = new vscode.Selection(end, end);
  const before = editor.document.getText();
  controller.state.beginConversation(true, false);
  events['voicepilot/connectionState']({ state: 'connected', previous: 'connecting', sessionId: 'vp_dictation' });
  const changed = new vscode.EventEmitter<void>();
  const subscription = vscode.workspace.onDidChangeTextDocument(() => changed.fire());
  try {
    events['voicepilot/transcript']({ role: 'user', itemId: 'd1', text: 'hello', final: false });
    events['voicepilot/transcript']({ role: 'user', itemId: 'd1', text: 'hello world', final: true });
    await waitFor(changed.event, () => editor.document.getText() !== before, 'the dictated text');
    assert.equal(editor.document.lineAt(2).text, 'line 3 hello world');
    await vscode.commands.executeCommand('undo');
    assert.equal(editor.document.getText(), before);
  } finally {
    subscription.dispose();
    events['voicepilot/connectionState']({ state: 'closed', previous: 'connected' });
  }
  assert.equal(controller.state.dictating, false);
});

test('the transcript view shows the conversation and exports it as Markdown', async () => {
  const { events, controller } = await voicePilot();
  events['voicepilot/transcript']({ role: 'user', itemId: 't1', text: 'open main dot py', final: true });
  await vscode.commands.executeCommand('voicepilot.exportTranscript');
  const document = vscode.window.activeTextEditor?.document;
  assert.equal(document?.languageId, 'markdown');
  assert.match(document.getText(), /\*\*You\*\* \([^)]+\): open main dot py/);
  assert.ok(controller.transcript.model.turns.some((turn) => turn.text === 'open main dot py'));
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
});
