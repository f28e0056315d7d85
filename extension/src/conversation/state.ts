// The latest connection state the sidecar reported, and the user's switches (push to talk held,
// microphone muted, dictation), for the status bar, the commands and the context keys that
// enable them.
import * as vscode from 'vscode';
import type { ContextKeyPublisher } from '../contextKeys';
import type { ConnectionStateParams } from '../sidecar/contract';
import { ContextKeys } from '../ids';
import { isConversationActive } from './activity';

export class ConnectionStateStore implements vscode.Disposable {
  private status: ConnectionStateParams = { state: 'idle', previous: 'idle' };
  private sessionIdValue: string | undefined;
  private talking = false;
  private mutedValue = false;
  private dictatingValue = false;
  private pushToTalkValue = false;
  private sidecarStoppedReason: string | undefined;
  private readonly changed = new vscode.EventEmitter<ConnectionStateParams>();
  /** Fires on every state the sidecar reports, on every switch, and when the sidecar stops for good. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly contextKeys: ContextKeyPublisher) {
    this.publish();
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

  get muted(): boolean {
    return this.mutedValue;
  }

  /** The conversation was started by Dictate at Cursor. */
  get dictating(): boolean {
    return this.dictatingValue;
  }

  /** The conversation takes turns by push to talk (voicepilot.turnDetection.mode). */
  get pushToTalk(): boolean {
    return this.pushToTalkValue;
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
    if (!isConversationActive(status.state)) {
      this.dictatingValue = false;
    }
    this.publish();
    this.changed.fire(status);
  }

  /** A conversation is being started, as a dictation or not, with push to talk or not. */
  beginConversation(dictating: boolean, pushToTalk: boolean): void {
    this.dictatingValue = dictating;
    this.pushToTalkValue = pushToTalk;
    this.sidecarStoppedReason = undefined;
    this.publish();
    this.changed.fire(this.status);
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
    this.publish();
    this.changed.fire(this.status);
  }

  setTalking(talking: boolean): void {
    this.talking = talking && this.status.state === 'connected';
    this.publish();
    this.changed.fire(this.status);
  }

  setMuted(muted: boolean): void {
    this.mutedValue = muted;
    this.publish();
    this.changed.fire(this.status);
  }

  dispose(): void {
    this.changed.dispose();
  }

  private publish(): void {
    this.contextKeys.set(ContextKeys.state, this.status.state);
    this.contextKeys.set(ContextKeys.talking, this.talking);
    this.contextKeys.set(ContextKeys.muted, this.mutedValue);
    this.contextKeys.set(ContextKeys.dictating, this.dictatingValue);
  }
}
