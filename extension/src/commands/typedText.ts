// Send Text Message: a typed turn in the running conversation (voicepilot/sendText). The steps
// are pure so a unit test drives them; sendText.ts gives them VS Code's input box and messages.
import type { SendTextParams, SendTextResult } from '../sidecar/contract';

/** SendTextParams.text's bound in the contract (contract/models.py): longer is refused there. */
export const MAX_TEXT_CHARS = 4096;

export interface TypedTextPort {
  /** Whether a conversation is connected now. */
  connected(): boolean;
  /** The input box: the text typed, or undefined when the user dismissed it. */
  ask(validate: (text: string) => string | undefined): Promise<string | undefined>;
  send(params: SendTextParams): Promise<SendTextResult | undefined>;
  tell(message: string): void;
}

export type TypedTextOutcome = 'sent' | 'cancelled' | 'notConnected' | 'refused';

/** The input box's check: undefined when the text can be sent. */
export function checkTypedText(text: string): string | undefined {
  if (text.trim() === '') {
    return 'Type a message for the assistant.';
  }
  if (text.length > MAX_TEXT_CHARS) {
    return `At most ${MAX_TEXT_CHARS} characters (${text.length} typed).`;
  }
  return undefined;
}

export async function sendTypedText(port: TypedTextPort, sessionId?: string): Promise<TypedTextOutcome> {
  if (!port.connected()) {
    port.tell('Start a conversation first: typed messages go into the running conversation.');
    return 'notConnected';
  }
  const typed = await port.ask(checkTypedText);
  if (typed === undefined || checkTypedText(typed) !== undefined) {
    return 'cancelled';
  }
  const result = await port.send({ text: typed.trim(), ...(sessionId !== undefined ? { sessionId } : {}) });
  if (result?.accepted !== true) {
    port.tell('The message was not sent: the conversation is not connected.');
    return 'refused';
  }
  return 'sent';
}

/**
 * Whether a failed startSession (its JSON-RPC error's data) is one a text-only conversation
 * avoids: no audio device works.
 */
export function offersTextFallback(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { errorKind?: unknown }).errorKind === 'device';
}
