// Validation of the tool calls the sidecar forwards from the model, before anything touches the
// editor. Pure: no `vscode` import, unit-tested. tools.ts carries the validated calls out.

/** Spoken command names the model may use, and the only editor commands run_command may run. */
export const RUN_COMMAND_ALLOWLIST: Readonly<Record<string, string>> = {
  'format document': 'editor.action.formatDocument',
  'toggle terminal': 'workbench.action.terminal.toggleTerminal',
  'close editor': 'workbench.action.closeActiveEditor',
  'new terminal': 'workbench.action.terminal.new',
  undo: 'undo',
};

export type ToolCall =
  | { readonly tool: 'open_file'; readonly path: string }
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
 * Checks a call's name and arguments against the declared tools (EDITOR_TOOLS in contract.ts).
 * `extraCommands` (spoken name → command id) extends the run_command allowlist.
 */
export function parseToolCall(
  name: string,
  args: Readonly<Record<string, unknown>>,
  extraCommands: Readonly<Record<string, string>> = {},
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
      return valid({ tool: 'open_file', path: normalizeRelativePath(path) });
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
      const spoken = raw?.toLowerCase().replace(/\s+/g, ' ');
      const allowlist = { ...RUN_COMMAND_ALLOWLIST, ...lowerCaseKeys(extraCommands) };
      const commandId = spoken === undefined ? undefined : allowlist[spoken];
      if (spoken !== undefined && commandId !== undefined) {
        return valid({ tool: 'run_command', spokenName: spoken, commandId, allowlisted: true });
      }
      if (raw !== undefined && COMMAND_ID.test(raw)) {
        return valid({ tool: 'run_command', spokenName: raw, commandId: raw, allowlisted: false });
      }
      const allowed = Object.keys(allowlist).join(', ');
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

function lowerCaseKeys(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [key.trim().toLowerCase().replace(/\s+/g, ' '), value]),
  );
}

/** Why a call needs the user's go-ahead before it runs; undefined when it does not. */
export function confirmationReason(call: ToolCall, selectedCharacters: number): string | undefined {
  switch (call.tool) {
    case 'run_command':
      return call.allowlisted ? undefined : `run the command ${call.commandId}, which is not on the allowlist`;
    case 'save_all':
      return 'save every modified file to disk';
    case 'insert_text':
      return selectedCharacters > 0 ? `replace the ${selectedCharacters} selected characters` : undefined;
    case 'open_file':
    case 'go_to_line':
    case 'find_in_workspace':
    case 'explain_selection':
      return undefined;
  }
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

/** The string a tool call returns to the model: JSON, `ok` first. */
export function toolOutput(result: { ok: boolean } & Record<string, unknown>): string {
  return JSON.stringify(result);
}

/** Forward slashes, no leading `./` or `/`: tools look files up relative to workspace folders. */
function normalizeRelativePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
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
