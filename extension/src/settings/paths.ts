// Path settings as users write them (`${workspaceFolder}/.venv/bin/python`, `~/demo.wav`, `demo.wav`)
// turned into paths a child process can use. Pure: no `vscode` import, unit-tested.
import * as path from 'node:path';

export interface PathContext {
  /** The first workspace folder's file-system path, if a folder is open. */
  readonly workspaceFolder: string | undefined;
  readonly homeDir: string;
}

/**
 * Expands `${workspaceFolder}`, `${userHome}` and a leading `~`, the variables VS Code's own path
 * settings accept. Returns undefined when the value names `${workspaceFolder}` and no folder is open.
 */
export function expandPathVariables(value: string, context: PathContext): string | undefined {
  if (value.includes('${workspaceFolder}') && context.workspaceFolder === undefined) {
    return undefined;
  }
  const expanded = value
    .replaceAll('${workspaceFolder}', context.workspaceFolder ?? '')
    .replaceAll('${userHome}', context.homeDir);
  if (expanded === '~' || expanded.startsWith('~/') || expanded.startsWith('~\\')) {
    return context.homeDir + expanded.slice(1);
  }
  return expanded;
}

/**
 * Resolves a file setting: variables expanded, a relative path anchored at the workspace folder
 * (the sidecar's working directory is not something users should have to know). Empty → undefined.
 */
export function resolveFileSetting(value: string, context: PathContext): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '') {
    return undefined;
  }
  const expanded = expandPathVariables(trimmed, context);
  if (expanded === undefined || path.isAbsolute(expanded) || context.workspaceFolder === undefined) {
    return expanded;
  }
  return path.resolve(context.workspaceFolder, expanded);
}

/**
 * Resolves an executable setting like `voicepilot.python.path`. A bare name such as `python3.12`
 * stays as it is, for the operating system to look up on PATH; anything with a separator is a file.
 */
export function resolveExecutableSetting(value: string, context: PathContext): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '') {
    return undefined;
  }
  return /[\\/]/.test(trimmed) ? resolveFileSetting(trimmed, context) : trimmed;
}
