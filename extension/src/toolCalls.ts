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
  | { readonly tool: 'run_command'; readonly spokenName: string; readonly commandId: string }
  | { readonly tool: 'insert_text'; readonly text: string }
  | { readonly tool: 'save_all' }
  | { readonly tool: 'explain_selection' };

export type ParsedToolCall = { readonly ok: true; readonly call: ToolCall } | { readonly ok: false; readonly error: string };

/** Checks a call's name and arguments against the declared tools (EDITOR_TOOLS in contract.ts). */
export function parseToolCall(name: string, args: Readonly<Record<string, unknown>>): ParsedToolCall {
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
      const spoken = nonEmptyString(args['command'])?.toLowerCase().replace(/\s+/g, ' ');
      const commandId = spoken === undefined ? undefined : RUN_COMMAND_ALLOWLIST[spoken];
      if (spoken === undefined || commandId === undefined) {
        const allowed = Object.keys(RUN_COMMAND_ALLOWLIST).join(', ');
        return invalid(`"${String(args['command'])}" is not an allowlisted command; allowed: ${allowed}`);
      }
      return valid({ tool: 'run_command', spokenName: spoken, commandId });
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
