// The API key of the `azure` and `openai` profiles, and the TURN servers' password. They live in
// VS Code's SecretStorage and leave it only as parameters of a voicepilot/setCredentials request:
// never in argv, the environment, a setting or a log line.
import * as vscode from 'vscode';
import { Methods } from '../sidecar/contract';
import type { SidecarRequest } from '../sidecar/client';

const SECRET_KEY = 'voicepilot.apiKey';
const TURN_SECRET_KEY = 'voicepilot.turnPassword';

export class ApiKeyStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the key is stored or deleted, by this window or another one. */
  readonly onDidChange = this.changed.event;
  private readonly turnChanged = new vscode.EventEmitter<void>();
  /** Fires when the TURN password is stored or deleted. */
  readonly onDidChangeTurnPassword = this.turnChanged.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.subscription = secrets.onDidChange((event) => {
      if (event.key === SECRET_KEY) {
        this.changed.fire();
      } else if (event.key === TURN_SECRET_KEY) {
        this.turnChanged.fire();
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

  /** Asks for the password of the TURN servers in `voicepilot.connection.iceServers` and stores it. */
  async promptAndStoreTurnPassword(): Promise<boolean> {
    const password = await vscode.window.showInputBox({
      title: 'VoicePilot: Set TURN Password',
      prompt: 'Password of the TURN server (its user name is in voicepilot.connection.iceServers). Stored in the system keychain.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value === '' ? 'Enter a password, or press Escape to cancel.' : undefined),
    });
    if (password === undefined) {
      return false;
    }
    await this.secrets.store(TURN_SECRET_KEY, password);
    return true;
  }

  clearTurnPassword(): Thenable<void> {
    return this.secrets.delete(TURN_SECRET_KEY);
  }

  /** Hands the stored key and TURN password, if any, to the sidecar. Resolves whether the sidecar has
   * the key now. */
  async sendTo(request: SidecarRequest): Promise<boolean> {
    const [apiKey, turnCredential] = await Promise.all([this.get(), this.secrets.get(TURN_SECRET_KEY)]);
    if (apiKey === undefined && turnCredential === undefined) {
      return false;
    }
    const { stored } = await request(Methods.setCredentials, {
      apiKey: apiKey ?? null,
      ...(turnCredential !== undefined ? { turnCredential } : {}),
    });
    return stored;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
    this.turnChanged.dispose();
  }
}
