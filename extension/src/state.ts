// The latest connection state the sidecar reported, for the status bar, the commands and the
// `voicepilot.state` context key that enables them.
import * as vscode from 'vscode';
import type { ConnectionStateParams } from './contract';
import { STATE_CONTEXT_KEY } from './ids';
import { isConversationActive } from './presentation';

export class ConnectionStateStore implements vscode.Disposable {
  private status: ConnectionStateParams = { state: 'idle', previous: 'idle' };
  private sessionIdValue: string | undefined;
  private talking = false;
  private sidecarStoppedReason: string | undefined;
  private readonly changed = new vscode.EventEmitter<ConnectionStateParams>();
  /** Fires on every state the sidecar reports, on push-to-talk, and when the sidecar stops for good. */
  readonly onDidChange = this.changed.event;

  constructor() {
    this.publishContextKey();
  }

  get current(): ConnectionStateParams {
    return this.status;
  }

  /** The conversation's id, from voicepilot/startSession or the latest state that named one. */
  get sessionId(): string | undefined {
    return this.sessionIdValue;
  }

  set sessionId(sessionId: string | undefined) {
    this.sessionIdValue = sessionId;
  }

  get conversationActive(): boolean {
    return isConversationActive(this.status.state);
  }

  /** Whether push-to-talk is held down; always false outside a connected conversation. */
  get isTalking(): boolean {
    return this.talking;
  }

  /** Why the sidecar is down with no automatic restart coming; undefined while it runs or restarts. */
  get sidecarStopped(): string | undefined {
    return this.sidecarStoppedReason;
  }

  /** Takes a voicepilot/connectionState notification. */
  update(status: ConnectionStateParams): void {
    this.status = status;
    if (status.sessionId !== undefined) {
      this.sessionIdValue = status.sessionId;
    }
    if (status.state !== 'connected') {
      this.talking = false;
    }
    this.publishContextKey();
    this.changed.fire(status);
  }

  /** Back to idle: a new sidecar has no conversation, and a dead one has ended it. */
  reset(reason?: string): void {
    this.sessionIdValue = undefined;
    this.sidecarStoppedReason = undefined;
    this.update({ state: this.conversationActive ? 'closed' : 'idle', previous: this.status.state, reason });
  }

  /** The sidecar is down and stays down until the user restarts it. */
  markSidecarStopped(reason: string): void {
    this.reset(reason);
    this.sidecarStoppedReason = reason;
    this.changed.fire(this.status);
  }

  setTalking(talking: boolean): void {
    this.talking = talking && this.status.state === 'connected';
    this.changed.fire(this.status);
  }

  dispose(): void {
    this.changed.dispose();
  }

  private publishContextKey(): void {
    void vscode.commands.executeCommand('setContext', STATE_CONTEXT_KEY, this.status.state);
  }
}
