// Carries out the editor tools (EDITOR_TOOLS in contract.ts) that the model calls through the
// sidecar's voicepilot/runTool request. Arguments are validated in toolCalls.ts first; every
// outcome, failures included, goes back to the model as a JSON string, never as an exception.
import * as vscode from 'vscode';
import type { RunToolParams, RunToolResult } from './contract';
import { confirmationReason, fileSearchGlob, parseToolCall, toolOutput, type ToolCall } from './toolCalls';

/** How the tools ask the user before anything destructive or outside the allowlist. */
export interface ToolPolicy {
  /** Spoken name → command id, added to run_command's allowlist (voicepilot.tools.allowedCommands). */
  extraCommands(): Readonly<Record<string, string>>;
  /** Whether destructive calls ask first (voicepilot.tools.confirmDestructive); calls off the allowlist always do. */
  confirmDestructive(): boolean;
  /** Resolves true when the user agrees to `action`. */
  confirm(action: string): Thenable<boolean>;
}

/** Asks with a modal dialog: the assistant waits for the answer. */
export const askUser = async (action: string): Promise<boolean> =>
  (await vscode.window.showWarningMessage(`The VoicePilot assistant wants to ${action}.`, { modal: true }, 'Allow')) ===
  'Allow';

type ToolResult = { ok: boolean } & Record<string, unknown>;

/** Most selected characters returned to the model: a function or two, not a whole file. */
const MAX_EXPLAINED_CHARACTERS = 8_000;

/** Folders no one means when they say a file name, and where most same-named files live. */
const OPEN_FILE_EXCLUDE = '**/{node_modules,.git,.venv,__pycache__}/**';

/** How many other matches of an ambiguous file name are reported, so the model can ask which. */
const MAX_OTHER_MATCHES = 5;

export async function runEditorTool(
  params: RunToolParams,
  log: vscode.LogOutputChannel,
  policy: ToolPolicy,
): Promise<RunToolResult> {
  const parsed = parseToolCall(params.name, params.arguments, policy.extraCommands());
  let result: ToolResult;
  if (!parsed.ok) {
    result = { ok: false, error: parsed.error };
  } else {
    try {
      const refusal = await askIfNeeded(parsed.call, policy);
      result = refusal ?? (await carryOut(parsed.call));
    } catch (error) {
      result = { ok: false, error: `${params.name} failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  const outcome = result.ok ? 'done' : `refused: ${String(result['error'])}`;
  log.info(`Tool ${params.name} (call ${params.callId}) ${outcome}`);
  return { output: toolOutput(result) };
}

/** Undefined when the call may go ahead; otherwise the result that tells the model the user said no. */
async function askIfNeeded(call: ToolCall, policy: ToolPolicy): Promise<ToolResult | undefined> {
  const editor = targetEditor();
  const selected = editor?.selections.reduce((sum, selection) => sum + editor.document.offsetAt(selection.end) - editor.document.offsetAt(selection.start), 0) ?? 0;
  const reason = confirmationReason(call, selected);
  if (reason === undefined) {
    return undefined;
  }
  const offAllowlist = call.tool === 'run_command' && !call.allowlisted;
  if (offAllowlist && !(await vscode.commands.getCommands(true)).includes(call.commandId)) {
    return { ok: false, error: `there is no command ${call.commandId}` };
  }
  if (!offAllowlist && !policy.confirmDestructive()) {
    return undefined;
  }
  return (await policy.confirm(reason)) ? undefined : { ok: false, error: `the user did not allow it to ${reason}` };
}

async function carryOut(call: ToolCall): Promise<ToolResult> {
  switch (call.tool) {
    case 'open_file':
      return openFile(call.path);
    case 'go_to_line':
      return goToLine(call.line);
    case 'find_in_workspace':
      await vscode.commands.executeCommand('workbench.action.findInFiles', {
        query: call.query,
        isRegex: false,
        triggerSearch: true,
      });
      return { ok: true, query: call.query };
    case 'run_command':
      await vscode.commands.executeCommand(call.commandId);
      return { ok: true, command: call.spokenName };
    case 'insert_text':
      return insertText(call.text);
    case 'save_all':
      return (await vscode.workspace.saveAll(false))
        ? { ok: true }
        : { ok: false, error: 'some files could not be saved' };
    case 'explain_selection':
      return explainSelection();
  }
}

/** Tries the path under each workspace folder, then searches for it at any depth, ignoring case. */
async function openFile(relativePath: string): Promise<ToolResult> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    return { ok: false, error: 'no folder is open in the editor' };
  }
  for (const folder of folders) {
    const candidate = vscode.Uri.joinPath(folder.uri, relativePath);
    if (await isFile(candidate)) {
      return showFile(candidate, []);
    }
  }
  const matches = await vscode.workspace.findFiles(fileSearchGlob(relativePath), OPEN_FILE_EXCLUDE, 50);
  if (matches.length === 0) {
    return { ok: false, error: `no file in the workspace matches "${relativePath}"` };
  }
  // The shallowest match is the likeliest: "package.json" is the one at the root.
  const [best, ...others] = matches
    .map((uri) => ({ uri, relative: vscode.workspace.asRelativePath(uri) }))
    .sort((a, b) => depth(a.relative) - depth(b.relative) || a.relative.localeCompare(b.relative));
  return showFile(best.uri, others.slice(0, MAX_OTHER_MATCHES).map((match) => match.relative));
}

async function showFile(uri: vscode.Uri, otherMatches: string[]): Promise<ToolResult> {
  // A file asked for by name is meant to stay open, not to be replaced like a preview.
  await vscode.window.showTextDocument(uri, { preview: false });
  const opened = vscode.workspace.asRelativePath(uri);
  return otherMatches.length === 0 ? { ok: true, opened } : { ok: true, opened, otherMatches };
}

async function goToLine(line: number): Promise<ToolResult> {
  const editor = targetEditor();
  if (editor === undefined) {
    return { ok: false, error: 'no file is open in an editor' };
  }
  const { document } = editor;
  const file = vscode.workspace.asRelativePath(document.uri);
  if (line > document.lineCount) {
    return { ok: false, error: `line ${line} is past the end of ${file} (${document.lineCount} lines)` };
  }
  const textLine = document.lineAt(line - 1);
  const cursor = new vscode.Position(textLine.lineNumber, textLine.firstNonWhitespaceCharacterIndex);
  editor.selection = new vscode.Selection(cursor, cursor);
  editor.revealRange(textLine.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  await vscode.window.showTextDocument(document, editor.viewColumn);
  return { ok: true, file, line };
}

/** Types `text` at every cursor, replacing selections, as one undo step. */
async function insertText(text: string): Promise<ToolResult> {
  const editor = targetEditor();
  if (editor === undefined) {
    return { ok: false, error: 'no file is open in an editor' };
  }
  const applied = await editor.edit((builder) => {
    for (const selection of editor.selections) {
      builder.replace(selection, text);
    }
  });
  const file = vscode.workspace.asRelativePath(editor.document.uri);
  return applied
    ? { ok: true, file, insertedCharacters: text.length }
    : { ok: false, error: `${file} refused the edit (is it read-only?)` };
}

function explainSelection(): ToolResult {
  const editor = targetEditor();
  if (editor === undefined) {
    return { ok: false, error: 'no file is open in an editor' };
  }
  const { document, selection } = editor;
  const range = selection.isEmpty ? document.lineAt(selection.active.line).range : selection;
  const text = document.getText(range);
  if (text.trim() === '') {
    return { ok: false, error: 'nothing is selected and the current line is empty' };
  }
  const truncated = text.length > MAX_EXPLAINED_CHARACTERS;
  return {
    ok: true,
    file: vscode.workspace.asRelativePath(document.uri),
    languageId: document.languageId,
    startLine: range.start.line + 1,
    endLine: range.end.line + 1,
    text: truncated ? text.slice(0, MAX_EXPLAINED_CHARACTERS) : text,
    truncated,
  };
}

/**
 * The editor the user is working in. The Output panel counts as a text editor for VS Code, and
 * it has focus right after the user looked at the transcript: skip it.
 */
export function targetEditor(): vscode.TextEditor | undefined {
  const isWorkEditor = (editor: vscode.TextEditor | undefined): editor is vscode.TextEditor =>
    editor !== undefined && editor.document.uri.scheme !== 'output';
  const active = vscode.window.activeTextEditor;
  return isWorkEditor(active) ? active : vscode.window.visibleTextEditors.find(isWorkEditor);
}

async function isFile(uri: vscode.Uri): Promise<boolean> {
  try {
    return ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.File) !== 0;
  } catch {
    return false;
  }
}

function depth(relativePath: string): number {
  return relativePath.split('/').length;
}
