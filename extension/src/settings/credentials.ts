// The API key of the `azure` and `openai` profiles. It lives in VS Code's SecretStorage and leaves
// it only as the parameter of a voicepilot/setCredentials request: never in argv, the
// environment or a log line.
import * as vscode from 'vscode';
import { Methods } from '../sidecar/contract';
import type { SidecarRequest } from '../sidecar/client';

const SECRET_KEY = 'voicepilot.apiKey';

export class ApiKeyStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the key is stored or deleted, by this window or another one. */
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.subscription = secrets.onDidChange((event) => {
      if (event.key === SECRET_KEY) {
        this.changed.fire();
      }
    });
  }

  get(): Thenable<string | undefined> {
    return this.secrets.get(SECRET_KEY);
  }

  /** Asks for a key and stores it; false when the user cancels. */
  async promptAndStore(): Promise<boolean> {
    const apiKey = await vscode.window.showInputBox({
      title: 'VoicePilot: Set API Key',
      prompt: 'API key of the realtime service (the azure or openai profile). Stored in the system keychain.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() === '' ? 'Enter a key, or press Escape to cancel.' : undefined),
    });
    if (apiKey === undefined) {
      return false;
    }
    await this.store(apiKey);
    return true;
  }

  store(apiKey: string): Thenable<void> {
    return this.secrets.store(SECRET_KEY, apiKey.trim());
  }

  clear(): Thenable<void> {
    return this.secrets.delete(SECRET_KEY);
  }

  /** Hands the stored key, if any, to the sidecar. Resolves whether the sidecar has it now. */
  async sendTo(request: SidecarRequest): Promise<boolean> {
    const apiKey = await this.get();
    if (apiKey === undefined) {
      return false;
    }
    const { stored } = await request(Methods.setCredentials, { apiKey });
    return stored;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
