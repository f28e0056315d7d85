// Which Python runs the sidecar, and which Python the private environment is built from. Pure:
// the file system, the probes and the Python extension come in through PythonLookup, so the
// search order is unit-tested.
import * as path from 'node:path';

/** The Python minor versions the lock files exist for (requirements/py3.X.txt). */
export const SUPPORTED_MINOR_VERSIONS = [10, 11, 12, 13] as const;

/** Where an interpreter came from; shown in logs and in "could not start" messages. */
export type InterpreterSource =
  | 'voicepilot.python.path'
  | 'workspace .venv'
  | 'extension .venv'
  | "VoicePilot's environment";

export interface PythonInterpreter {
  /** An absolute path, or a bare command name for the operating system to find on PATH. */
  readonly command: string;
  readonly source: InterpreterSource;
}

/** Where a Python to build the private environment from came from. */
export type BasePythonSource = 'chosen by you' | 'Python extension' | 'PATH';

export interface BasePython {
  readonly command: string;
  readonly source: BasePythonSource;
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
  /** Whether `python` has voicepilot and its dependencies (a look, not an import). */
  hasVoicePilot(python: string): Promise<boolean>;
}

export interface BasePythonLookup {
  /** The Python picked with "Use Another Python...", kept across sessions; undefined when none. */
  readonly chosenPath: string | undefined;
  readonly workspaceTrusted: boolean;
  readonly platform: NodeJS.Platform;
  /** The interpreter selected in the Python extension, when that extension is installed. */
  pythonExtensionInterpreter(): Promise<string | undefined>;
}

/**
 * An interpreter that runs the sidecar as it is, first match wins: the setting; the workspace's
 * `.venv` when the workspace is trusted and that `.venv` has voicepilot (a project's unrelated
 * `.venv` does not); the extension's own `.venv` (a development checkout). Undefined: VoicePilot's
 * private environment is needed.
 */
export async function findReadyPython(lookup: PythonLookup): Promise<PythonInterpreter | undefined> {
  if (lookup.configuredPath !== undefined) {
    return { command: lookup.configuredPath, source: 'voicepilot.python.path' };
  }
  if (lookup.workspaceTrusted && lookup.workspaceFolder !== undefined) {
    const candidate = venvPython(lookup.workspaceFolder, lookup.platform);
    if ((await lookup.isFile(candidate)) && (await lookup.hasVoicePilot(candidate))) {
      return { command: candidate, source: 'workspace .venv' };
    }
  }
  const development = venvPython(lookup.extensionPath, lookup.platform);
  if (await lookup.isFile(development)) {
    return { command: development, source: 'extension .venv' };
  }
  return undefined;
}

/**
 * The Pythons to build the private environment from, best first: the one the user chose, the
 * Python extension's selection (not in an untrusted workspace: it may be the workspace's `.venv`),
 * then `python3` and `python` on PATH. The caller takes the first that runs and is supported.
 */
export async function basePythonCandidates(lookup: BasePythonLookup): Promise<BasePython[]> {
  const candidates: BasePython[] = [];
  if (lookup.chosenPath !== undefined) {
    candidates.push({ command: lookup.chosenPath, source: 'chosen by you' });
  }
  const selected = lookup.workspaceTrusted ? await lookup.pythonExtensionInterpreter() : undefined;
  if (selected) {
    candidates.push({ command: selected, source: 'Python extension' });
  }
  // Then each supported version by name, newest first: `python3` may be too new or too old while a
  // `python3.12` sits beside it.
  const onPath =
    lookup.platform === 'win32'
      ? ['python', 'python3']
      : ['python3', 'python', ...[...SUPPORTED_MINOR_VERSIONS].reverse().map((minor) => `python3.${minor}`)];
  candidates.push(...onPath.map((command): BasePython => ({ command, source: 'PATH' })));
  return candidates;
}

/** The interpreter of the `.venv` in `folder`, laid out as `python -m venv` does on `platform`. */
export function venvPython(folder: string, platform: NodeJS.Platform): string {
  return environmentPython(platform === 'win32' ? path.win32.join(folder, '.venv') : path.posix.join(folder, '.venv'), platform);
}

/** The interpreter of the virtual environment in `environment`. */
export function environmentPython(environment: string, platform: NodeJS.Platform): string {
  return platform === 'win32'
    ? path.win32.join(environment, 'Scripts', 'python.exe')
    : path.posix.join(environment, 'bin', 'python');
}
