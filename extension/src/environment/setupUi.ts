// The editor's side of the voice engine's setup: which interpreter the sidecar gets, the
// cancellable progress notification while the private environment is built, and the failure
// messages with their next steps. The decisions live in findPython.ts and pythonEnvironment.ts.
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { Commands, EXTENSION_ID } from '../ids';
import {
  basePythonCandidates,
  findReadyPython,
  type PythonInterpreter,
  type PythonLookup,
} from './findPython';
import { nodeHost, runProcess } from './nodeHost';
import { PythonEnvironment } from './pythonEnvironment';
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
    const { context, log } = options;
    this.environment = new PythonEnvironment(
      nodeHost(context.globalStorageUri.fsPath, context.extensionPath, (line) => log.info(`[setup] ${line}`)),
    );
  }

  /** The interpreter that needs no setup, or undefined. */
  private async ifReady(): Promise<PythonInterpreter | undefined> {
    const ready = await findReadyPython(this.fullLookup());
    if (ready !== undefined) {
      return ready;
    }
    const existing = await this.environment.existing();
    return existing === undefined ? undefined : { command: existing, source: "VoicePilot's environment" };
  }

  /**
   * The interpreter for the sidecar, setting up the private environment first when needed. A
   * failed setup is shown with its next steps, then rejects with the SetupError.
   */
  async interpreter(): Promise<PythonInterpreter> {
    try {
      return await this.interpreterOrSetupError();
    } catch (error) {
      if (error instanceof SetupError) {
        void showSetupFailure(error, this);
      }
      throw error;
    }
  }

  private async interpreterOrSetupError(): Promise<PythonInterpreter> {
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
      // Bounded: a workspace's .venv that hangs must not hold every start of the sidecar.
      hasVoicePilot: (python) =>
        runProcess(python, ['-I', '-c', HAS_VOICEPILOT], () => undefined, AbortSignal.timeout(PROBE_TIMEOUT_MS)).then(
          (result) => result.exitCode === 0,
          () => false,
        ),
    };
  }
}

const PROBE_TIMEOUT_MS = 15_000;

/** Looks for the sidecar's packages without importing them (an import of aiortc takes a while). */
const HAS_VOICEPILOT =
  'import importlib.util as u, sys; ' +
  "sys.exit(0 if all(u.find_spec(m) for m in ('voicepilot', 'pygls', 'aiortc', 'av', 'numpy')) else 1)";

/** Shows why the setup failed, with buttons to the next step; nothing for a cancellation. */
export async function showSetupFailure(error: SetupError, python: SidecarPython): Promise<void> {
  const failure = describeSetupFailure(error, process.platform);
  if (failure === undefined) {
    return;
  }
  const labels = failure.actions.map((action) => SETUP_ACTION_LABELS[action]);
  const picked = await vscode.window.showErrorMessage(failure.message, ...labels);
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
