// Publishes the context keys (ids.ts ContextKeys) and remembers what it published, so the
// extension-host tests can check the values VS Code was given.
import * as vscode from 'vscode';
import type { ContextKey } from './ids';

export type ContextValue = string | boolean;

export class ContextKeyPublisher {
  private readonly values = new Map<ContextKey, ContextValue>();

  set(key: ContextKey, value: ContextValue): void {
    if (this.values.get(key) === value) {
      return;
    }
    this.values.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }

  get(key: ContextKey): ContextValue | undefined {
    return this.values.get(key);
  }

  snapshot(): Readonly<Record<string, ContextValue>> {
    return Object.fromEntries(this.values);
  }
}
