// The editor's side of the voice engine's setup: which interpreter the sidecar gets, the
// cancellable progress notification while the private environment is built, and the failure
// messages with their next steps. The decisions live in findPython.ts and pythonEnvironment.ts.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands, EXTENSION_ID } from '../ids';
import {
  basePythonCandidates,
  findReadyPython,
  type PythonInterpreter,
  type PythonLookup,
} from './findPython';
import { PythonEnvironment, type EnvironmentHost, type RunResult } from './pythonEnvironment';
import { describeSetupFailure, SETUP_ACTION_LABELS, SetupError, type SetupAction } from './setupErrors';

/** globalState key of the Python picked with "Use Another Python...". */
const CHOSEN_PYTHON_KEY = 'voicepilot.environment.basePython';

export interface SidecarPythonOptions {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  /** Read at every start: settings and trust may have changed. */
  lookup(): Omit<PythonLookup, 'hasVoicePilot' | 'isFile'>;
  pythonExtensionInterpreter(): Promise<string | undefined>;
}

export class SidecarPython {
  private readonly environment: PythonEnvironment;

  constructor(private readonly options: SidecarPythonOptions) {
    this.environment = new PythonEnvironment(nodeHost(options.context, options.log));
  }

  /** The interpreter that needs no setup, or undefined: at window startup nothing is installed. */
  async ifReady(): Promise<PythonInterpreter | undefined> {
    const ready = await findReadyPython(this.fullLookup());
    if (ready !== undefined) {
      return ready;
    }
    const existing = await this.environment.existing();
    return existing === undefined ? undefined : { command: existing, source: "VoicePilot's environment" };
  }

  /** The interpreter for the sidecar, setting up the private environment first when needed. Rejects with a SetupError. */
  async interpreter(): Promise<PythonInterpreter> {
    const ready = await this.ifReady();
    if (ready !== undefined) {
      return ready;
    }
    const bases = await basePythonCandidates({
      chosenPath: this.options.context.globalState.get<string>(CHOSEN_PYTHON_KEY),
      workspaceTrusted: this.options.lookup().workspaceTrusted,
      platform: process.platform,
      pythonExtensionInterpreter: () => this.options.pythonExtensionInterpreter(),
    });
    const command = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Setting up VoicePilot's voice engine...", cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        return this.environment.ensure(bases, { report: (message) => progress.report({ message }) }, abort.signal);
      },
    );
    return { command, source: "VoicePilot's environment" };
  }

  /** "Use Another Python...": the picked one builds the environment from the next start on. */
  async chooseAnotherPython(): Promise<boolean> {
    const picked = await vscode.window.showOpenDialog({
      title: 'Python 3.10 to 3.13 for VoicePilot',
      openLabel: 'Use This Python',
      canSelectMany: false,
      canSelectFolders: false,
    });
    if (picked?.[0] === undefined) {
      return false;
    }
    await this.options.context.globalState.update(CHOSEN_PYTHON_KEY, picked[0].fsPath);
    await this.environment.forget().catch(() => undefined);
    return true;
  }

  private fullLookup(): PythonLookup {
    return {
      ...this.options.lookup(),
      isFile: async (filePath) => (await fs.stat(filePath).catch(() => undefined))?.isFile() === true,
      hasVoicePilot: async (python) => (await runProcess(python, ['-I', '-c', HAS_VOICEPILOT], () => undefined)).exitCode === 0,
    };
  }
}

/** Looks for the sidecar's packages without importing them (an import of aiortc takes a while). */
const HAS_VOICEPILOT =
  "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ('voicepilot', 'pygls', 'aiortc', 'av', 'numpy')) else 1)";

/** Shows why the setup failed, with buttons to the next step; nothing for a cancellation. */
export async function showSetupFailure(error: SetupError, python: SidecarPython): Promise<void> {
  const failure = describeSetupFailure(error, process.platform);
  if (failure === undefined) {
    return;
  }
  const picked = await vscode.window.showErrorMessage(failure.message, ...failure.actions.map((action) => SETUP_ACTION_LABELS[action]));
  const action = failure.actions.find((candidate: SetupAction) => SETUP_ACTION_LABELS[candidate] === picked);
  switch (action) {
    case 'retry':
      await vscode.commands.executeCommand(Commands.restartSidecar);
      return;
    case 'useAnotherPython':
      if (await python.chooseAnotherPython()) {
        await vscode.commands.executeCommand(Commands.restartSidecar);
      }
      return;
    case 'showLogs':
      await vscode.commands.executeCommand(Commands.showLogs);
      return;
    case 'openSettings':
      await vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${EXTENSION_ID} python`);
      return;
    case undefined:
      return;
  }
}

/** Nothing from the workspace: a neutral directory, no PYTHONPATH, no current directory on sys.path. */
function processEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { ...process.env, PYTHONSAFEPATH: '1', PYTHONUNBUFFERED: '1' };
  delete environment['PYTHONPATH'];
  delete environment['PYTHONHOME'];
  return environment;
}

function runProcess(command: string, args: readonly string[], onLine: (line: string) => void, signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const child = spawn(command, args, { cwd: os.tmpdir(), env: processEnvironment(), stdio: ['ignore', 'pipe', 'pipe'], signal });
    const collect = (stream: NodeJS.ReadableStream): void => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (rest + chunk).split(/\r?\n/);
        rest = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          onLine(line);
        }
      });
      stream.on('end', () => {
        if (rest !== '') {
          lines.push(rest);
          onLine(rest);
        }
      });
    };
    collect(child.stdout);
    collect(child.stderr);
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') {
        reject(new SetupError('cancelled', 'cancelled'));
      } else if (error.code === 'ENOENT' || error.code === 'EACCES') {
        resolve({ exitCode: undefined, lines: [error.message] });
      } else {
        reject(error);
      }
    });
    child.on('close', (code) => {
      if (signal?.aborted) {
        reject(new SetupError('cancelled', 'cancelled'));
      } else {
        resolve({ exitCode: code ?? -1, lines });
      }
    });
  });
}

/** pip's configuration files and variables: with one, pip (not uv) installs, so the user's index, proxy and certificates apply. */
async function hasPipConfiguration(): Promise<boolean> {
  if (Object.keys(process.env).some((name) => /^PIP_(INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|NO_INDEX|CONFIG_FILE|CERT|PROXY|TRUSTED_HOST|CLIENT_CERT)$/.test(name))) {
    return true;
  }
  const home = os.homedir();
  const files =
    process.platform === 'win32'
      ? [path.join(process.env['APPDATA'] ?? home, 'pip', 'pip.ini'), path.join(home, 'pip', 'pip.ini'), path.join(process.env['ProgramData'] ?? 'C:\\ProgramData', 'pip', 'pip.ini')]
      : [
          path.join(process.env['XDG_CONFIG_HOME'] ?? path.join(home, '.config'), 'pip', 'pip.conf'),
          path.join(home, '.pip', 'pip.conf'),
          path.join(home, 'Library', 'Application Support', 'pip', 'pip.conf'),
          '/etc/pip.conf',
          '/etc/xdg/pip/pip.conf',
        ];
  for (const file of files) {
    if (await fs.stat(file).then(() => true, () => false)) {
      return true;
    }
  }
  return false;
}

async function findOnPath(name: string): Promise<string | undefined> {
  const names = process.platform === 'win32' ? [`${name}.exe`] : [name];
  for (const folder of (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean)) {
    for (const candidate of names) {
      const file = path.join(folder, candidate);
      if ((await fs.stat(file).catch(() => undefined))?.isFile() === true) {
        return file;
      }
    }
  }
  return undefined;
}

function nodeHost(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): EnvironmentHost {
  return {
    storagePath: context.globalStorageUri.fsPath,
    extensionPath: context.extensionPath,
    platform: process.platform,
    run: runProcess,
    readdir: (folder) => fs.readdir(folder),
    readFile: (file) => fs.readFile(file),
    writeFile: (file, content) => fs.writeFile(file, content, 'utf8'),
    mkdir: async (folder) => {
      await fs.mkdir(folder, { recursive: true });
    },
    rename: (from, to) => fs.rename(from, to),
    remove: (target) => fs.rm(target, { recursive: true, force: true }),
    exists: (file) => fs.stat(file).then(() => true, () => false),
    findUv: () => findOnPath('uv'),
    hasPipConfiguration,
    log: (line) => log.info(`[setup] ${line}`),
  };
}
