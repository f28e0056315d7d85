// The Python sidecar's lifecycle: spawn `python -m voicepilot sidecar` (process.ts), talk
// JSON-RPC to it over stdio through vscode-languageclient, and restart it when it dies (RestartGuard decides when).
import type * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  type ErrorHandler,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type {
  EndSessionParams,
  EndSessionResult,
  ListDevicesParams,
  ListDevicesResult,
  Methods,
  PushToTalkParams,
  PushToTalkResult,
  RunDiagnosticsParams,
  RunDiagnosticsResult,
  SelectDevicesParams,
  SelectDevicesResult,
  SetCredentialsParams,
  SetCredentialsResult,
  SetMuteParams,
  SetMuteResult,
  SendTextParams,
  SendTextResult,
  StartSessionParams,
  StartSessionResult,
} from './contract';
import type { PythonInterpreter } from '../environment/findPython';
import { redactSecrets } from './redact';
import { RestartGuard, type RestartDecision } from './restartGuard';
import { sidecarProcess } from './process';

/** The editor → sidecar requests: method → [params, result]. */
interface SidecarRequests {
  [Methods.startSession]: [StartSessionParams, StartSessionResult];
  [Methods.endSession]: [EndSessionParams, EndSessionResult];
  [Methods.pushToTalk]: [PushToTalkParams, PushToTalkResult];
  [Methods.setCredentials]: [SetCredentialsParams, SetCredentialsResult];
  [Methods.runDiagnostics]: [RunDiagnosticsParams, RunDiagnosticsResult];
  [Methods.listDevices]: [ListDevicesParams, ListDevicesResult];
  [Methods.selectDevices]: [SelectDevicesParams, SelectDevicesResult];
  [Methods.setMute]: [SetMuteParams, SetMuteResult];
  [Methods.sendText]: [SendTextParams, SendTextResult];
}

export type SidecarMethod = keyof SidecarRequests;

/** Sends one request to the sidecar and resolves with its typed result. */
export type SidecarRequest = <M extends SidecarMethod>(
  method: M,
  params: SidecarRequests[M][0],
) => Promise<SidecarRequests[M][1]>;

export interface SidecarOptions {
  /** Holds `server/voicepilot`, put on PYTHONPATH so an interpreter without the package still runs it. */
  readonly extensionPath: string;
  /** Receives the sidecar's stderr, the JSON-RPC trace and our own lines. */
  readonly log: vscode.LogOutputChannel;
  /** Looked up at every start, so a changed setting or a new `.venv` is picked up by a restart. */
  findInterpreter(): Promise<PythonInterpreter>;
  /** Registers the handlers for what the sidecar sends; called for every new client, before it starts. */
  registerHandlers(client: LanguageClient): void;
  /** Runs once a new sidecar answers, before any other request reaches it. */
  onStarted(request: SidecarRequest): Promise<void>;
  /** The sidecar exited without being asked to; a restart follows unless the budget is spent. */
  onExited(): void;
  /**
   * The sidecar is down and no automatic restart is coming: a start failed (the caller of
   * start() gets the error), or it died too often (`gaveUp`, which nobody else reports).
   */
  onStopped(reason: string, gaveUp: boolean): void;
}

/** The sidecar could not be started; the message says with which interpreter and why. */
export class SidecarStartError extends Error {
  override readonly name = 'SidecarStartError';
}

type Phase = 'stopped' | 'starting' | 'running' | 'stopping';

/** The end of the log line that reports a crash. */
const RESTART_DECISIONS: Readonly<Record<RestartDecision, string>> = {
  scheduled: 'restarting it.',
  coalesced: 'a restart is already pending.',
  queued: 'it is restarted once the restart in progress is over.',
  gaveUp: 'it stopped too often, so it is not restarted: run VoicePilot: Restart Sidecar.',
  disposed: 'VoicePilot is shutting down.',
};

/** How long a sidecar gets to answer `shutdown` before vscode-languageclient kills it. */
const STOP_TIMEOUT_MS = 2_000;

export class Sidecar implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private phase: Phase = 'stopped';
  /** Start, stop and restart run one after the other, never interleaved. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  private readonly restartGuard: RestartGuard;
  private readonly traceChannel: RedactingChannel;

  constructor(private readonly options: SidecarOptions) {
    this.restartGuard = new RestartGuard({
      // A sidecar that the user started meanwhile is left alone.
      restart: () => this.serialized(() => (this.phase === 'running' ? Promise.resolve() : this.launch(true))),
      onGiveUp: () => options.onStopped('It stopped 3 times within a minute.', true),
    });
    this.traceChannel = new RedactingChannel(options.log);
  }

  get isRunning(): boolean {
    return this.phase === 'running';
  }

  /** Starts the sidecar unless it is running; rejects with a SidecarStartError. */
  start(): Promise<void> {
    return this.serialized(() => (this.phase === 'running' ? Promise.resolve() : this.launch(false)));
  }

  /** A restart the user asked for: the old sidecar is stopped, and crashes get a fresh budget. */
  restart(): Promise<void> {
    this.restartGuard.reset();
    return this.serialized(() => this.launch(false));
  }

  stop(): Promise<void> {
    return this.serialized(() => this.shutdown());
  }

  /** Sends a request, starting the sidecar first if it is not running: asking it is reason enough. */
  readonly request: SidecarRequest = async (method, params) => {
    await this.start();
    return this.connectedClient().sendRequest(method, params);
  };

  /** Sends a request only if the sidecar is already running; resolves undefined otherwise. */
  readonly requestIfRunning = async <M extends SidecarMethod>(
    method: M,
    params: SidecarRequests[M][0],
  ): Promise<SidecarRequests[M][1] | undefined> =>
    this.isRunning ? this.connectedClient().sendRequest(method, params) : undefined;

  dispose(): void {
    this.restartGuard.dispose();
    void this.stop();
  }

  private serialized<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.lifecycle.then(operation);
    this.lifecycle = result.catch(() => undefined);
    return result;
  }

  /** `automatic`: a restart after a crash, whose failure RestartGuard handles. */
  private async launch(automatic: boolean): Promise<void> {
    // A running sidecar (on a restart) or the remains of a crashed one.
    await this.shutdown();
    const interpreter = await this.options.findInterpreter();
    const { log } = this.options;
    log.info(`Starting the sidecar: ${interpreter.command} -m voicepilot sidecar (interpreter from ${interpreter.source})`);
    const stderr = new StderrChannel(log);
    const client = this.createClient(interpreter, stderr);
    this.client = client;
    this.phase = 'starting';
    try {
      await client.start();
      // start() resolves without an error when the process exits before answering `initialize`.
      if (!client.isRunning()) {
        throw new Error('the sidecar exited while starting');
      }
    } catch (error) {
      this.phase = 'stopped';
      this.client = undefined;
      // A client whose start failed refuses to stop; its process, if any, has already exited.
      client.dispose().catch(() => undefined);
      // The sidecar's last words (a ModuleNotFoundError, say) explain more than the client's error.
      const cause = stderr.lastLine ?? errorMessage(error);
      const failure = new SidecarStartError(
        `Could not start the VoicePilot sidecar with ${interpreter.command} (from ${interpreter.source}): ` +
          `${cause.replace(/\.$/, '')}. Set voicepilot.python.path to an interpreter that has the sidecar's ` +
          'dependencies; the log has the details.',
      );
      log.error(failure.message);
      if (!automatic) {
        this.options.onStopped(failure.message, false);
      }
      throw failure;
    }
    this.phase = 'running';
    const serverInfo = client.initializeResult?.serverInfo;
    log.info(`The sidecar is running${serverInfo ? ` (${serverInfo.name} ${serverInfo.version ?? ''})`.trimEnd() : ''}.`);
    // Straight to this client: this.request() would wait for the start that is running here.
    const requestThisSidecar: SidecarRequest = (method, params) => client.sendRequest(method, params);
    try {
      await this.options.onStarted(requestThisSidecar);
    } catch (error) {
      log.error(`Setting up the new sidecar failed: ${errorMessage(error)}`);
    }
  }

  private async shutdown(): Promise<void> {
    const client = this.client;
    if (client === undefined) {
      return;
    }
    this.phase = 'stopping';
    try {
      await client.dispose(STOP_TIMEOUT_MS);
    } catch (error) {
      // Already dead (the usual case on a restart) or killed after the timeout: stopped either way.
      this.options.log.debug(`Stopping the sidecar: ${errorMessage(error)}`);
    } finally {
      this.client = undefined;
      this.phase = 'stopped';
    }
  }

  private createClient(interpreter: PythonInterpreter, stderr: StderrChannel): LanguageClient {
    const spawned = sidecarProcess(this.options.extensionPath, interpreter.command, process.env);
    const serverOptions: ServerOptions = {
      command: spawned.command,
      args: [...spawned.args],
      // No `transport`: stdio is the default, and TransportKind.stdio would append `--stdio`.
      // A `cwd` of our own: without one, vscode-languageclient starts the sidecar in the workspace.
      options: { cwd: spawned.cwd, env: spawned.env },
    };
    const clientOptions: LanguageClientOptions = {
      // Not a language server: no documents are synchronised.
      documentSelector: [],
      outputChannel: stderr,
      traceOutputChannel: this.traceChannel,
      connectionOptions: { maxRestartCount: 0 },
      errorHandler: this.errorHandler(() => client),
      // Reported by whoever called start(), with buttons that help; no retry.
      initializationFailedHandler: () => false,
    };
    // The id makes vscode-languageclient read the `voicepilot.trace.server` setting.
    const client = new SidecarClient('voicepilot', 'VoicePilot sidecar', serverOptions, clientOptions);
    this.options.registerHandlers(client);
    return client;
  }

  /** Restarts are ours (RestartGuard), never vscode-languageclient's. */
  private errorHandler(clientOfHandler: () => LanguageClient | undefined): ErrorHandler {
    return {
      error: (error, message) => {
        this.options.log.error(
          `JSON-RPC error with the sidecar: ${error.message}` +
            (message === undefined ? '' : ` (message: ${redactSecrets(JSON.stringify(message))})`) +
            '. The sidecar must write nothing but JSON-RPC to stdout; its logs belong on stderr.',
        );
        return { action: ErrorAction.Continue, handled: true };
      },
      closed: () => {
        // Only a running sidecar that is still the current one counts as a crash: a failed start
        // is reported by start(), and a stop we asked for is no crash.
        if (clientOfHandler() === this.client && this.phase === 'running') {
          this.phase = 'stopped';
          this.options.onExited();
          const decision = this.restartGuard.requestRestart();
          this.options.log.warn(`The sidecar exited unexpectedly; ${RESTART_DECISIONS[decision]}`);
        }
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    };
  }

  private connectedClient(): LanguageClient {
    if (this.client === undefined || this.phase !== 'running') {
      throw new Error('The VoicePilot sidecar is not running.');
    }
    return this.client;
  }
}

/**
 * vscode-languageclient pops up its own "couldn't create connection" notifications; VoicePilot
 * reports failures itself with buttons that lead to a fix, so the client only logs.
 */
class SidecarClient extends LanguageClient {
  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

/** Writes to the log with API keys redacted: the verbose JSON-RPC trace logs request parameters. */
class RedactingChannel implements vscode.OutputChannel {
  constructor(private readonly target: vscode.OutputChannel) {}

  get name(): string {
    return this.target.name;
  }

  append(value: string): void {
    this.target.append(redactSecrets(value));
  }

  appendLine(value: string): void {
    this.target.appendLine(redactSecrets(value));
  }

  replace(value: string): void {
    this.target.replace(redactSecrets(value));
  }

  clear(): void {
    this.target.clear();
  }

  show(columnOrPreserveFocus?: vscode.ViewColumn | boolean, preserveFocus?: boolean): void {
    this.target.show(typeof columnOrPreserveFocus === 'boolean' ? columnOrPreserveFocus : preserveFocus);
  }

  hide(): void {
    this.target.hide();
  }

  dispose(): void {
    // The log belongs to the extension, which disposes it.
  }
}

/** The client's output channel: it gets the sidecar's stderr through append(), its own lines through appendLine(). */
class StderrChannel extends RedactingChannel {
  /** The sidecar's latest non-empty stderr line, redacted. */
  lastLine: string | undefined;

  override append(value: string): void {
    const lines = value.split(/\r?\n/).filter((line) => line.trim() !== '');
    this.lastLine = lines.length > 0 ? redactSecrets(lines[lines.length - 1].trim()) : this.lastLine;
    super.append(value);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
