// What VS Code says about the sidecar's Python, asked at each start: the settings, the workspace's
// trust and the interpreter selected in the Python extension (ms-python.python, through its public
// API). The order of the candidates is environment/findPython.ts's, unit-tested there.
import * as vscode from 'vscode';
import type { PythonLookup } from '../environment/findPython';
import { firstWorkspaceFolder, readConfiguredPython } from '../settings/settings';

const PYTHON_EXTENSION_ID = 'ms-python.python';

/** The part of the Python extension's `environments` API used here (see @vscode/python-extension). */
interface PythonExtensionApi {
  readonly environments: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { readonly path: string };
    resolveEnvironment(
      environment: { readonly path: string } | string,
    ): Promise<{ readonly executable: { readonly uri: vscode.Uri | undefined } } | undefined>;
  };
}

/**
 * The executable of the environment selected for `resource`, or undefined when the extension is not
 * installed, has nothing selected, or fails: it is one candidate among several, never required.
 */
export async function pythonExtensionInterpreter(
  log: vscode.LogOutputChannel,
  resource: vscode.Uri | undefined,
): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (extension === undefined) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const selected = api.environments.getActiveEnvironmentPath(resource);
    const environment = await api.environments.resolveEnvironment(selected);
    return environment?.executable.uri?.fsPath;
  } catch (error) {
    log.warn(`Could not ask the Python extension for its interpreter: ${String(error)}`);
    return undefined;
  }
}

/** The lookup for a sidecar that starts now, with the workspace's trust as it is now. */
export function pythonLookup(extensionPath: string): Omit<PythonLookup, 'hasVoicePilot' | 'isFile'> {
  return {
    // An untrusted workspace must not choose the program VoicePilot runs.
    configuredPath: readConfiguredPython(vscode.workspace.isTrusted),
    workspaceFolder: firstWorkspaceFolder(),
    workspaceTrusted: vscode.workspace.isTrusted,
    extensionPath,
    platform: process.platform,
  };
}
