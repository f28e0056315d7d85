// The conversation as turns: voicepilot/transcript notifications carry the whole text so far of
// one item, so a turn is keyed by its item id and replaced as its text grows. Pure, unit-tested;
// ../views/transcriptView.ts shows it, and it exports itself as Markdown.
import type { TranscriptParams } from '../sidecar/contract';

export interface Turn {
  readonly itemId: string;
  readonly role: TranscriptParams['role'];
  readonly text: string;
  readonly final: boolean;
  /** When the first words of the turn arrived (ms since the epoch). */
  readonly startedAt: number;
  readonly sessionId: string | undefined;
}

/** The most turns kept: a long conversation stays readable and light. */
export const MAX_TURNS = 500;

export class TranscriptModel {
  private turnsValue: Turn[] = [];

  get turns(): readonly Turn[] {
    return this.turnsValue;
  }

  /** Takes a notification; returns the turn as it is now, or undefined for an empty one. */
  apply(line: TranscriptParams, now: number): Turn | undefined {
    const index = this.turnsValue.findIndex((turn) => turn.itemId === line.itemId && turn.role === line.role);
    const text = line.text.trim();
    if (index < 0 && text === '') {
      return undefined;
    }
    const previous = index < 0 ? undefined : this.turnsValue[index];
    const turn: Turn = {
      itemId: line.itemId,
      role: line.role,
      text,
      final: line.final,
      startedAt: previous?.startedAt ?? now,
      sessionId: line.sessionId ?? previous?.sessionId,
    };
    if (index < 0) {
      this.turnsValue = [...this.turnsValue, turn].slice(-MAX_TURNS);
    } else {
      this.turnsValue = this.turnsValue.map((existing, position) => (position === index ? turn : existing));
    }
    return turn;
  }

  clear(): void {
    this.turnsValue = [];
  }

  /** The transcript as a Markdown document; `formatTime` renders a turn's time. */
  toMarkdown(formatTime: (at: number) => string, title = 'VoicePilot transcript'): string {
    const lines = [`# ${title}`, ''];
    let session: string | undefined;
    for (const turn of this.turnsValue) {
      if (turn.sessionId !== session && turn.sessionId !== undefined) {
        session = turn.sessionId;
        lines.push(`## Conversation ${session}`, '');
      }
      const speaker = turn.role === 'user' ? 'You' : 'VoicePilot';
      const suffix = turn.final ? '' : ' *(unfinished)*';
      lines.push(`**${speaker}** (${formatTime(turn.startedAt)}): ${escapeMarkdown(turn.text)}${suffix}`, '');
    }
    if (this.turnsValue.length === 0) {
      lines.push('*Nothing was said yet.*', '');
    }
    return lines.join('\n');
  }
}

/** Keeps spoken text from turning into Markdown markup. */
function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]#<>|])/g, '\\$1');
}
