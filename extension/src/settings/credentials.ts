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
  promptAndStore(): Promise<boolean> {
    return this.askAndStore(
      SECRET_KEY,
      'VoicePilot: Set API Key',
      'API key of the realtime service (the azure or openai profile). Stored in the system keychain.',
      'Enter a key, or press Escape to cancel.',
    );
  }

  store(apiKey: string): Thenable<void> {
    return this.secrets.store(SECRET_KEY, apiKey.trim());
  }

  clear(): Thenable<void> {
    return this.secrets.delete(SECRET_KEY);
  }

  /** Asks for the password of the TURN servers in `voicepilot.connection.iceServers` and stores it. */
  promptAndStoreTurnPassword(): Promise<boolean> {
    return this.askAndStore(
      TURN_SECRET_KEY,
      'VoicePilot: Set TURN Password',
      'Password of the TURN server (its user name is in voicepilot.connection.iceServers). Stored in the system keychain.',
      'Enter a password, or press Escape to cancel.',
    );
  }

  /** A password box that refuses an empty answer, its answer stored trimmed; false when cancelled. */
  private async askAndStore(secretKey: string, title: string, prompt: string, whenEmpty: string): Promise<boolean> {
    const value = await vscode.window.showInputBox({
      title,
      prompt,
      password: true,
      ignoreFocusOut: true,
      validateInput: (answer) => (answer.trim() === '' ? whenEmpty : undefined),
    });
    if (value === undefined) {
      return false;
    }
    await this.secrets.store(secretKey, value.trim());
    return true;
  }

  clearTurnPassword(): Thenable<void> {
    return this.secrets.delete(TURN_SECRET_KEY);
  }

  /** Hands the stored key and TURN password, if any, to the sidecar (with `evenIfNone`, also when
   * neither is stored, so that it forgets a cleared TURN password). Resolves whether it has the key now. */
  async sendTo(request: SidecarRequest, evenIfNone = false): Promise<boolean> {
    const [apiKey, turnCredential] = await Promise.all([this.get(), this.secrets.get(TURN_SECRET_KEY)]);
    if (apiKey === undefined && turnCredential === undefined && !evenIfNone) {
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

