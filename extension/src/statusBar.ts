// The status-bar item: the connection state at a glance, one click to start or to push to talk.
import * as vscode from 'vscode';
import { describeStatusBar } from './presentation';
import type { ConnectionStateStore } from './state';

export class ConnectionStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('voicepilot.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly state: ConnectionStateStore) {
    this.item.name = 'VoicePilot';
    this.subscription = state.onDidChange(() => this.render());
    this.render();
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }

  private render(): void {
    const look = describeStatusBar({
      status: this.state.current,
      talking: this.state.isTalking,
      sidecarStopped: this.state.sidecarStopped,
    });
    this.item.text = look.text;
    this.item.tooltip = look.tooltip;
    this.item.backgroundColor = look.background === undefined ? undefined : new vscode.ThemeColor(look.background);
    this.item.command = look.command;
    this.item.accessibilityInformation = { label: look.tooltip };
  }
}
