// Validation of the tool calls the sidecar forwards from the model, before anything touches the
// editor, and the bounded JSON that goes back. The model is untrusted: its names are looked up
// as own properties only, and no spoken name of the user's replaces a built-in one. Pure: no
// `vscode` import, unit-tested. tools.ts carries the validated calls out.
import * as nodePath from 'node:path';
import { parseToolPath, type PathApi } from './confinement';

/** Spoken command names the model may use, and the only editor commands run_command may run. */
export const RUN_COMMAND_ALLOWLIST: Readonly<Record<string, string>> = {
  'format document': 'editor.action.formatDocument',
  'toggle terminal': 'workbench.action.terminal.toggleTerminal',
  'close editor': 'workbench.action.closeActiveEditor',
  'new terminal': 'workbench.action.terminal.new',
  undo: 'undo',
};

export type ToolCall =
  | {
      readonly tool: 'open_file';
      /** Normalised, forward slashes when relative; `absolute` paths must still lie in a folder. */
      readonly path: string;
      readonly absolute: boolean;
    }
  | { readonly tool: 'go_to_line'; readonly line: number }
  | { readonly tool: 'find_in_workspace'; readonly query: string }
  | {
      readonly tool: 'run_command';
      readonly spokenName: string;
      readonly commandId: string;
      /** False for a command id the model named that no allowlist has: it runs only if the user agrees. */
      readonly allowlisted: boolean;
    }
  | { readonly tool: 'insert_text'; readonly text: string }
  | { readonly tool: 'save_all' }
  | { readonly tool: 'explain_selection' };

export type ParsedToolCall = { readonly ok: true; readonly call: ToolCall } | { readonly ok: false; readonly error: string };

/** A VS Code command id, such as workbench.action.files.newUntitledFile. */
const COMMAND_ID = /^[A-Za-z][\w-]*(\.[\w-]+)+$/;

/**
 * Checks a call's name and arguments against the declared tools (EDITOR_TOOLS in ../sidecar/contract.ts).
 * `extraCommands` (spoken name → command id) extends the run_command allowlist; `pathApi` is the
 * platform's path module (its separators and drive letters decide what counts as absolute).
 */
export function parseToolCall(
  name: string,
  args: Readonly<Record<string, unknown>>,
  extraCommands: Readonly<Record<string, unknown>> = {},
  pathApi: PathApi = nodePath,
): ParsedToolCall {
  switch (name) {
    case 'open_file': {
      const path = nonEmptyString(args['path']);
      if (path === undefined) {
        return invalid('open_file needs "path": a workspace-relative path or a file name');
      }
      if (/[*?[\]{}]/.test(path)) {
        return invalid(`open_file takes a path, not a pattern: "${path}"`);
      }
      const parsed = parseToolPath(path, pathApi);
      return parsed.ok
        ? valid({ tool: 'open_file', path: parsed.path, absolute: parsed.kind === 'absolute' })
        : invalid(parsed.error);
    }
    case 'go_to_line': {
      const line = positiveInteger(args['line']);
      return line === undefined
        ? invalid('go_to_line needs "line": a line number, 1 or more')
        : valid({ tool: 'go_to_line', line });
    }
    case 'find_in_workspace': {
      const query = nonEmptyString(args['query']);
      return query === undefined
        ? invalid('find_in_workspace needs "query": the text to search for')
        : valid({ tool: 'find_in_workspace', query });
    }
    case 'run_command': {
      const raw = nonEmptyString(args['command']);
      const spoken = raw === undefined ? undefined : spokenForm(raw);
      const allowlist = commandAllowlist(extraCommands);
      const commandId = spoken === undefined ? undefined : allowlist.get(spoken);
      if (spoken !== undefined && commandId !== undefined) {
        return valid({ tool: 'run_command', spokenName: spoken, commandId, allowlisted: true });
      }
      if (raw !== undefined && COMMAND_ID.test(raw)) {
        return valid({ tool: 'run_command', spokenName: raw, commandId: raw, allowlisted: false });
      }
      const allowed = [...allowlist.keys()].join(', ');
      return invalid(`"${String(args['command'])}" is not an allowlisted command; allowed: ${allowed}`);
    }
    case 'insert_text': {
      const text = args['text'];
      return typeof text === 'string' && text !== ''
        ? valid({ tool: 'insert_text', text })
        : invalid('insert_text needs "text": the text to insert');
    }
    case 'save_all':
      return valid({ tool: 'save_all' });
    case 'explain_selection':
      return valid({ tool: 'explain_selection' });
    default:
      return invalid(`unknown tool "${name}"`);
  }
}

/** "Format   Document " is how a person says "format document". */
function spokenForm(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ');
}

/**
 * Spoken name → command id: the built-in names, then the user's extras that name a command id
 * and no built-in. A Map, so that `__proto__` or `constructor` is a name like any other.
 */
export function commandAllowlist(extraCommands: Readonly<Record<string, unknown>>): ReadonlyMap<string, string> {
  const allowlist = new Map(Object.entries(RUN_COMMAND_ALLOWLIST));
  for (const [name, commandId] of Object.entries(extraCommands)) {
    const spoken = spokenForm(name);
    if (spoken !== '' && !allowlist.has(spoken) && typeof commandId === 'string' && COMMAND_ID.test(commandId)) {
      allowlist.set(spoken, commandId);
    }
  }
  return allowlist;
}

/** What the editor looks like when a call is confirmed: the confirmation names exactly what happens. */
export interface CallContext {
  /** Characters selected in the target editor. */
  readonly selectedCharacters: number;
  /** The target editor's file, workspace-relative. */
  readonly targetFile?: string;
  /** The modified files save_all would write (inside the workspace), workspace-relative. */
  readonly filesToSave?: readonly string[];
  /** Why other modified files stay unsaved, e.g. "1 modified file outside the workspace". */
  readonly leftUnsaved?: string;
}

/** How many file names a confirmation lists before "and N more". */
const LISTED_FILES = 10;

/** Why a call needs the user's go-ahead before it runs; undefined when it does not. */
export function confirmationReason(call: ToolCall, context: CallContext): string | undefined {
  switch (call.tool) {
    case 'run_command':
      return call.allowlisted ? undefined : `run the command ${call.commandId}, which is not on the allowlist`;
    case 'save_all': {
      const files = context.filesToSave ?? [];
      if (files.length === 0) {
        return undefined;
      }
      const listed = files.slice(0, LISTED_FILES).join(', ');
      const more = files.length > LISTED_FILES ? ` and ${files.length - LISTED_FILES} more` : '';
      const left = context.leftUnsaved === undefined ? '' : ` (${context.leftUnsaved} stay unsaved)`;
      return `save ${plural(files.length, 'file')} to disk: ${listed}${more}${left}`;
    }
    case 'insert_text':
      return context.selectedCharacters > 0
        ? `replace the ${context.selectedCharacters} selected characters${context.targetFile === undefined ? '' : ` in ${context.targetFile}`}`
        : undefined;
    case 'open_file':
    case 'go_to_line':
    case 'find_in_workspace':
    case 'explain_selection':
      return undefined;
  }
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * A glob that finds `relativePath` at any depth, ignoring case: "readme.md" is how a person says
 * README.md, and workspace.findFiles is case-sensitive where the file system is.
 */
export function fileSearchGlob(relativePath: string): string {
  const caseless = relativePath.replace(/\p{L}/gu, (letter) => {
    const lower = letter.toLowerCase();
    const upper = letter.toUpperCase();
    // Skip letters without a one-to-one case pair (ß upper-cases to SS).
    return lower === upper || lower.length !== 1 || upper.length !== 1 ? letter : `[${lower}${upper}]`;
  });
  return `**/${caseless}`;
}

/** The longest text (explain_selection's selection) returned to the model: a function or two, not a file. */
export const MAX_TEXT_CHARACTERS = 8_000;
/** The longest of any other string returned to the model: a path, an error, a query. */
export const MAX_STRING_CHARACTERS = 500;
/** The most items of a list returned to the model. */
export const MAX_LIST_ITEMS = 20;

/**
 * The string a tool call returns to the model: JSON, `ok` first, every string and list cut to
 * its bound. When anything was cut, the cut string ends by saying so and `truncated` is true.
 */
export function toolOutput(result: { ok: boolean } & Record<string, unknown>): string {
  let cut = false;
  const bound = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') {
      const limit = key === 'text' ? MAX_TEXT_CHARACTERS : MAX_STRING_CHARACTERS;
      if (value.length <= limit) {
        return value;
      }
      cut = true;
      return `${value.slice(0, limit)}… [cut: ${value.length - limit} more characters]`;
    }
    if (Array.isArray(value)) {
      cut ||= value.length > MAX_LIST_ITEMS;
      return value.slice(0, MAX_LIST_ITEMS).map((item) => bound(item, key));
    }
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, bound(item, name)]));
    }
    return value;
  };
  const bounded = bound(result, '') as Record<string, unknown>;
  return JSON.stringify(cut ? { ...bounded, truncated: true } : bounded);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Accepts 42 and "42": models do not always honour `"type": "integer"`. */
function positiveInteger(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number >= 1 ? number : undefined;
}

function valid(call: ToolCall): ParsedToolCall {
  return { ok: true, call };
}

function invalid(error: string): ParsedToolCall {
  return { ok: false, error };
}
