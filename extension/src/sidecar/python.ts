// Which Python interpreter runs the sidecar. Pure: the file system and the Python extension are
// reached through the injected PythonLookup, so the search order is unit-tested.
import * as path from 'node:path';

/** Where an interpreter came from; shown in logs and in "could not start" messages. */
export type InterpreterSource =
  | 'voicepilot.python.path'
  | 'workspace .venv'
  | 'extension .venv'
  | 'Python extension'
  | 'PATH';

export interface PythonInterpreter {
  /** An absolute path, or a bare command name for the operating system to find on PATH. */
  readonly command: string;
  readonly source: InterpreterSource;
}

export interface PythonLookup {
  /** `voicepilot.python.path` after resolveExecutableSetting(); undefined when unset. */
  readonly configuredPath: string | undefined;
  /** The first workspace folder; undefined when none is open. */
  readonly workspaceFolder: string | undefined;
  /** An untrusted workspace chooses no interpreter: neither its .venv nor the Python extension's pick for it. */
  readonly workspaceTrusted: boolean;
  readonly extensionPath: string;
  readonly platform: NodeJS.Platform;
  isFile(filePath: string): Promise<boolean>;
  /** The interpreter selected in the Python extension, when that extension is installed. */
  pythonExtensionInterpreter(): Promise<string | undefined>;
}

/**
 * Picks the interpreter, first match wins: the setting, the workspace's `.venv`, the extension's
 * own `.venv` (a development checkout), the Python extension's selection, then `python3` on PATH.
 * In an untrusted workspace the two that the workspace can choose (its `.venv`, and the Python
 * extension's interpreter for it, which may be that `.venv`) are skipped.
 */
export async function findPython(lookup: PythonLookup): Promise<PythonInterpreter> {
  if (lookup.configuredPath !== undefined) {
    return { command: lookup.configuredPath, source: 'voicepilot.python.path' };
  }
  const virtualEnvironments: [string | undefined, InterpreterSource][] = [
    [lookup.workspaceTrusted ? lookup.workspaceFolder : undefined, 'workspace .venv'],
    [lookup.extensionPath, 'extension .venv'],
  ];
  for (const [folder, source] of virtualEnvironments) {
    if (folder === undefined) {
      continue;
    }
    const candidate = venvPython(folder, lookup.platform);
    if (await lookup.isFile(candidate)) {
      return { command: candidate, source };
    }
  }
  const selected = lookup.workspaceTrusted ? await lookup.pythonExtensionInterpreter() : undefined;
  if (selected) {
    return { command: selected, source: 'Python extension' };
  }
  return { command: lookup.platform === 'win32' ? 'python' : 'python3', source: 'PATH' };
}

/** The interpreter of the `.venv` in `folder`, laid out as `python -m venv` does on `platform`. */
export function venvPython(folder: string, platform: NodeJS.Platform): string {
  return platform === 'win32'
    ? path.win32.join(folder, '.venv', 'Scripts', 'python.exe')
    : path.posix.join(folder, '.venv', 'bin', 'python');
}
