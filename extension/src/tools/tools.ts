// Carries out the editor tools (EDITOR_TOOLS in ../sidecar/contract.ts) that the model calls
// through the sidecar's voicepilot/runTool request. Arguments are validated in toolCalls.ts
// first; every file a tool touches is checked by WorkspaceFiles (inside the workspace, not a
// secret); every outcome, refusals included, goes back to the model as bounded JSON, never as an
// exception.
import * as vscode from 'vscode';
import { readAllowedSecretFiles, readConfirmDestructive, readExtraAllowedCommands } from '../settings/settings';
import type { RunToolParams, RunToolResult } from '../sidecar/contract';
import type { Refusal } from './confinement';
import {
  confirmationReason,
  fileSearchGlob,
  parseToolCall,
  plural,
  toolOutput,
  type CallContext,
  type ToolCall,
} from './toolCalls';
import { WorkspaceFiles, type Access } from './workspaceFiles';

/** The user's tool policy (user settings only) and how the tools ask before acting. */
export interface ToolPolicy {
  /** Spoken name → command id, added to run_command's allowlist (voicepilot.tools.allowedCommands). */
  extraCommands(): Readonly<Record<string, unknown>>;
  /** Whether destructive calls ask first (voicepilot.tools.confirmDestructive); calls off the allowlist always do. */
  confirmDestructive(): boolean;
  /** File-name patterns that may be touched although they look secret (voicepilot.tools.allowedSecretFiles). */
  allowedSecretFiles(): readonly string[];
  /** False in Restricted Mode, where every tool call is refused. */
  workspaceTrusted(): boolean;
  /** Resolves true when the user agrees to `action`. */
  confirm(action: string): Thenable<boolean>;
}

/** Asks with a modal dialog: the assistant waits for the answer. */
export const askUser = async (action: string): Promise<boolean> =>
  (await vscode.window.showWarningMessage(`The VoicePilot assistant wants to ${action}.`, { modal: true }, 'Allow')) ===
  'Allow';

/** The policy the user's settings give, read afresh on each call; the workspace's trust is VS Code's. */
export function userToolPolicy(): ToolPolicy {
  return {
    extraCommands: readExtraAllowedCommands,
    confirmDestructive: readConfirmDestructive,
    allowedSecretFiles: readAllowedSecretFiles,
    workspaceTrusted: () => vscode.workspace.isTrusted,
    confirm: askUser,
  };
}

/** What the model hears for every call in Restricted Mode; the status bar says the same. */
export const TOOLS_OFF_IN_RESTRICTED_MODE =
  'the editor tools are off because this workspace is in Restricted Mode (not trusted); ' +
  'the user can trust the workspace to turn them on';

type ToolResult = { ok: boolean } & Record<string, unknown>;

/** Folders no one means when they say a file name, and where most same-named files live. */
const OPEN_FILE_EXCLUDE = '**/{node_modules,.git,.venv,__pycache__}/**';

/** How many other matches of an ambiguous file name are reported, so the model can ask which. */
const MAX_OTHER_MATCHES = 5;

export async function runEditorTool(
  params: RunToolParams,
  log: vscode.LogOutputChannel,
  policy: ToolPolicy,
): Promise<RunToolResult> {
  let result: ToolResult;
  const parsed = parseToolCall(params.name, params.arguments, policy.extraCommands());
  if (!policy.workspaceTrusted()) {
    result = { ok: false, error: TOOLS_OFF_IN_RESTRICTED_MODE };
  } else if (!parsed.ok) {
    result = { ok: false, error: parsed.error };
  } else {
    try {
      result = await carryOut(parsed.call, new Tools(policy));
    } catch (error) {
      result = { ok: false, error: `${params.name} failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  const output = toolOutput(result);
  const outcome = result.ok ? 'done' : `refused: ${String((JSON.parse(output) as ToolResult)['error'])}`;
  log.info(`Tool ${JSON.stringify(params.name.slice(0, 60))} (call ${params.callId.slice(0, 60)}) ${outcome}`);
  return { output };
}

/** One call's view of the policy and the workspace. */
class Tools {
  readonly files: WorkspaceFiles;

  constructor(readonly policy: ToolPolicy) {
    this.files = new WorkspaceFiles(() => policy.allowedSecretFiles());
  }

  /** Undefined when the call may go ahead; otherwise the result that tells the model the user said no. */
  async refusedByUser(call: ToolCall, context: CallContext): Promise<ToolResult | undefined> {
    const reason = confirmationReason(call, context);
    if (reason === undefined) {
      return undefined;
    }
    const offAllowlist = call.tool === 'run_command' && !call.allowlisted;
    if (!offAllowlist && !this.policy.confirmDestructive()) {
      return undefined;
    }
    return (await this.policy.confirm(reason)) ? undefined : { ok: false, error: `the user did not allow it to ${reason}` };
  }
}

async function carryOut(call: ToolCall, tools: Tools): Promise<ToolResult> {
  switch (call.tool) {
    case 'open_file':
      return openFile(call.path, call.absolute, tools.files);
    case 'go_to_line':
      return goToLine(call.line, tools.files);
    case 'find_in_workspace':
      // The matches go to the Search view, for the user; none of their text reaches the model.
      await vscode.commands.executeCommand('workbench.action.findInFiles', {
        query: call.query,
        isRegex: false,
        triggerSearch: true,
      });
      return { ok: true, query: call.query };
    case 'run_command':
      return runCommand(call, tools);
    case 'insert_text':
      return insertText(call, tools);
    case 'save_all':
      return saveAll(call, tools);
    case 'explain_selection':
      return explainSelection(tools.files);
  }
}

/**
 * A relative path is tried under each workspace folder, then searched for at any depth, ignoring
 * case; an absolute one must lie in a folder. Either way the file opened is the checked real path.
 */
async function openFile(requested: string, absolute: boolean, files: WorkspaceFiles): Promise<ToolResult> {
  const folders = files.folders;
  if (folders.length === 0) {
    return { ok: false, error: 'no folder is open in the editor' };
  }
  const candidates = folders.map((folder) =>
    absolute
      ? folder.scheme === 'file'
        ? vscode.Uri.file(requested)
        : folder.with({ path: requested.replace(/\\/g, '/') })
      : vscode.Uri.joinPath(folder, requested),
  );
  for (const candidate of candidates) {
    const checked = await files.check(candidate, requested);
    if (checked !== undefined && !checked.ok) {
      return checked;
    }
    if (checked !== undefined && (await isFile(checked.uri))) {
      return showFile(checked.uri, []);
    }
  }
  if (absolute) {
    return { ok: false, error: `there is no file "${requested}"` };
  }
  const found = await vscode.workspace.findFiles(fileSearchGlob(requested), OPEN_FILE_EXCLUDE, 50);
  const allowed: Access[] = [];
  for (const uri of found) {
    const checked = await files.check(uri, vscode.workspace.asRelativePath(uri));
    if (checked?.ok === true) {
      allowed.push(checked);
    }
  }
  if (allowed.length === 0) {
    const leftOut = found.length === 0 ? '' : ` (${plural(found.length, 'match')} outside the workspace or secret)`;
    return { ok: false, error: `no file in the workspace matches "${requested}"${leftOut}` };
  }
  // The shallowest match is the likeliest: "package.json" is the one at the root.
  const [best, ...others] = allowed
    .map(({ uri }) => ({ uri, relative: vscode.workspace.asRelativePath(uri) }))
    .sort((a, b) => depth(a.relative) - depth(b.relative) || a.relative.localeCompare(b.relative));
  return showFile(best.uri, others.slice(0, MAX_OTHER_MATCHES).map((match) => match.relative));
}

async function showFile(uri: vscode.Uri, otherMatches: string[]): Promise<ToolResult> {
  // A file asked for by name is meant to stay open, not to be replaced like a preview.
  await vscode.window.showTextDocument(uri, { preview: false });
  const opened = vscode.workspace.asRelativePath(uri);
  return otherMatches.length === 0 ? { ok: true, opened } : { ok: true, opened, otherMatches };
}

/** The editor a tool acts on, if its document may be touched. */
async function workEditor(files: WorkspaceFiles): Promise<{ editor: vscode.TextEditor; file: string } | Refusal> {
  const editor = targetEditor();
  if (editor === undefined) {
    return { ok: false, error: 'no file is open in an editor' };
  }
  const checked = await files.checkDocument(editor.document);
  if (!checked.ok) {
    return checked;
  }
  const file = editor.document.isUntitled ? checked.relative : vscode.workspace.asRelativePath(checked.uri);
  return { editor, file };
}

async function goToLine(line: number, files: WorkspaceFiles): Promise<ToolResult> {
  const target = await workEditor(files);
  if ('ok' in target) {
    return target;
  }
  const { editor, file } = target;
  const { document } = editor;
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

/** Runs an allowlisted command; one the model named itself, only if it exists and the user agrees. */
async function runCommand(call: Extract<ToolCall, { tool: 'run_command' }>, tools: Tools): Promise<ToolResult> {
  if (!call.allowlisted && !(await vscode.commands.getCommands(true)).includes(call.commandId)) {
    return { ok: false, error: `there is no command ${call.commandId}` };
  }
  const refused = await tools.refusedByUser(call, { selectedCharacters: 0 });
  if (refused !== undefined) {
    return refused;
  }
  await vscode.commands.executeCommand(call.commandId);
  return { ok: true, command: call.spokenName };
}

/** Types `text` at every cursor, replacing selections, as one undo step. */
async function insertText(call: Extract<ToolCall, { tool: 'insert_text' }>, tools: Tools): Promise<ToolResult> {
  const target = await workEditor(tools.files);
  if ('ok' in target) {
    return target;
  }
  const { editor, file } = target;
  const selectedCharacters = editor.selections.reduce(
    (sum, selection) => sum + editor.document.offsetAt(selection.end) - editor.document.offsetAt(selection.start),
    0,
  );
  const refused = await tools.refusedByUser(call, { selectedCharacters, targetFile: file });
  if (refused !== undefined) {
    return refused;
  }
  const applied = await editor.edit((builder) => {
    for (const selection of editor.selections) {
      builder.replace(selection, call.text);
    }
  });
  return applied
    ? { ok: true, file, insertedCharacters: call.text.length }
    : { ok: false, error: `${file} refused the edit (is it read-only?)` };
}

/**
 * Saves the modified files the tools may touch, and only those: one outside the workspace, one
 * that looks secret or one without a name stays unsaved, and the answer says so.
 */
async function saveAll(call: ToolCall, tools: Tools): Promise<ToolResult> {
  const toSave: { document: vscode.TextDocument; name: string }[] = [];
  const left = { outside: 0, secret: 0, untitled: 0 };
  for (const document of vscode.workspace.textDocuments.filter((candidate) => candidate.isDirty)) {
    if (document.isUntitled) {
      left.untitled++;
      continue;
    }
    const checked = await tools.files.checkDocument(document);
    if (checked.ok) {
      toSave.push({ document, name: vscode.workspace.asRelativePath(checked.uri) });
    } else if (checked.rule === 'secret') {
      left.secret++;
    } else {
      left.outside++;
    }
  }
  const leftParts = [
    left.outside > 0 ? `${plural(left.outside, 'modified file')} outside the workspace` : undefined,
    left.secret > 0 ? `${plural(left.secret, 'modified file')} that look${left.secret === 1 ? 's' : ''} secret` : undefined,
    left.untitled > 0 ? `${plural(left.untitled, 'untitled document')}` : undefined,
  ].filter((part): part is string => part !== undefined);
  const leftUnsaved = leftParts.length === 0 ? undefined : leftParts.join(', ');
  const names = toSave.map((entry) => entry.name);
  const refused = await tools.refusedByUser(call, { selectedCharacters: 0, filesToSave: names, leftUnsaved });
  if (refused !== undefined) {
    return refused;
  }
  const failed: string[] = [];
  for (const { document, name } of toSave) {
    if (!(await document.save())) {
      failed.push(name);
    }
  }
  const notSaved = leftUnsaved === undefined ? {} : { notSaved: `${leftUnsaved}: not saved` };
  const saved = names.filter((name) => !failed.includes(name));
  return failed.length === 0
    ? { ok: true, saved, ...notSaved }
    : { ok: false, error: `could not save ${failed.join(', ')}`, saved, ...notSaved };
}

/** The selection (or the cursor's line) of a document the tools may read; toolOutput bounds its length. */
async function explainSelection(files: WorkspaceFiles): Promise<ToolResult> {
  const target = await workEditor(files);
  if ('ok' in target) {
    return target;
  }
  const { editor, file } = target;
  const { document, selection } = editor;
  const range = selection.isEmpty ? document.lineAt(selection.active.line).range : selection;
  const text = document.getText(range);
  if (text.trim() === '') {
    return { ok: false, error: 'nothing is selected and the current line is empty' };
  }
  return {
    ok: true,
    file,
    languageId: document.languageId,
    startLine: range.start.line + 1,
    endLine: range.end.line + 1,
    text,
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
