// Decides when a dead sidecar is restarted: debounced, one restart at a time, and at most
// `maxRestarts` within `windowMs`, so a sidecar that dies on start-up is not respawned forever.
// Pure (the clock is injected), unit-tested.

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface RestartGuardOptions {
  /** Replaces the dead sidecar with a new one. A rejection counts as one more death. */
  restart(): Promise<void>;
  /** Called when a death finds the budget spent: no restart follows until reset(). */
  onGiveUp(): void;
  readonly maxRestarts?: number;
  readonly windowMs?: number;
  /** Deaths reported within this delay (an exit followed by a closed pipe, say) make one restart. */
  readonly debounceMs?: number;
  readonly clock?: Clock;
}

/** What became of a requestRestart(). */
export type RestartDecision =
  | 'scheduled'
  /** A restart is already pending: this death is part of it. */
  | 'coalesced'
  /** A restart is running: this death is handled once it is over, never concurrently. */
  | 'queued'
  /** The budget is spent: onGiveUp() has been called. */
  | 'gaveUp'
  | 'disposed';

export class RestartGuard {
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly debounceMs: number;
  private readonly clock: Clock;
  /** When each automatic restart of the current window was scheduled. */
  private readonly restartTimes: number[] = [];
  private pendingTimer: unknown;
  private restarting = false;
  private diedWhileRestarting = false;
  private disposed = false;

  constructor(private readonly options: RestartGuardOptions) {
    this.maxRestarts = options.maxRestarts ?? 3;
    this.windowMs = options.windowMs ?? 60_000;
    this.debounceMs = options.debounceMs ?? 1_000;
    this.clock = options.clock ?? systemClock;
  }

  /** Reports that the sidecar died on its own; restarts it unless the budget is spent. */
  requestRestart(): RestartDecision {
    if (this.disposed) {
      return 'disposed';
    }
    if (this.pendingTimer !== undefined) {
      return 'coalesced';
    }
    if (this.restarting) {
      this.diedWhileRestarting = true;
      return 'queued';
    }
    const now = this.clock.now();
    while (this.restartTimes.length > 0 && now - this.restartTimes[0] >= this.windowMs) {
      this.restartTimes.shift();
    }
    if (this.restartTimes.length >= this.maxRestarts) {
      this.options.onGiveUp();
      return 'gaveUp';
    }
    this.restartTimes.push(now);
    this.pendingTimer = this.clock.setTimeout(() => {
      this.pendingTimer = undefined;
      void this.run();
    }, this.debounceMs);
    return 'scheduled';
  }

  /** Forgets past restarts and cancels a pending one: the user restarted the sidecar by hand. */
  reset(): void {
    this.cancelPending();
    this.restartTimes.length = 0;
  }

  dispose(): void {
    this.disposed = true;
    this.cancelPending();
  }

  private async run(): Promise<void> {
    this.restarting = true;
    this.diedWhileRestarting = false;
    let failed = false;
    try {
      await this.options.restart();
    } catch {
      failed = true;
    } finally {
      this.restarting = false;
    }
    if (failed || this.diedWhileRestarting) {
      this.diedWhileRestarting = false;
      this.requestRestart();
    }
  }

  private cancelPending(): void {
    if (this.pendingTimer !== undefined) {
      this.clock.clearTimeout(this.pendingTimer);
      this.pendingTimer = undefined;
    }
  }
}
