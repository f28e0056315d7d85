// How the sidecar process is started, so that nothing in the workspace runs: its working
// directory is the extension's own `server` folder (never the workspace folder that
// vscode-languageclient would pick), and PYTHONSAFEPATH keeps that directory off sys.path on
// Python 3.11+. On 3.10, which ignores PYTHONSAFEPATH, the directory `-m` puts first on sys.path
// is that same folder, already first on PYTHONPATH: nothing new becomes importable. Pure, unit-tested.
import * as path from 'node:path';

export interface SidecarProcess {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function sidecarProcess(
  extensionPath: string,
  interpreter: string,
  environment: Readonly<Record<string, string | undefined>>,
): SidecarProcess {
  const serverDirectory = path.join(extensionPath, 'server');
  return {
    command: interpreter,
    args: ['-m', 'voicepilot', 'sidecar'],
    cwd: serverDirectory,
    env: {
      ...environment,
      // First, so the sidecar always matches this extension's contract even when the interpreter
      // has another voicepilot installed.
      PYTHONPATH: [serverDirectory, environment['PYTHONPATH']].filter(Boolean).join(path.delimiter),
      // The current directory is not put on sys.path (Python 3.11+; the engine child inherits it).
      PYTHONSAFEPATH: '1',
      // Log lines reach the output channel when written, not when a buffer fills.
      PYTHONUNBUFFERED: '1',
    },
  };
}
