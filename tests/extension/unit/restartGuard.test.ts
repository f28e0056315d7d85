import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartGuard, type Clock, type RestartGuardOptions } from '../../../extension/src/sidecar/restartGuard';

/** A clock whose time moves only when a test says so. */
class FakeClock implements Clock {
  private time = 0;
  private nextHandle = 1;
  private timers: { at: number; handle: number; callback: () => void }[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = this.nextHandle++;
    this.timers.push({ at: this.time + delayMs, handle, callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.handle !== handle);
  }

  /** Moves time forward, firing the timers that fall due, and lets the restarts they start settle. */
  async advance(delayMs: number): Promise<void> {
    const target = this.time + delayMs;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) {
        break;
      }
      this.timers = this.timers.filter((timer) => timer !== due);
      this.time = due.at;
      due.callback();
      await settle();
    }
    this.time = target;
    await settle();
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A guard whose restart and give-up calls are counted; `restart` can be replaced per test. */
function makeGuard(overrides: Partial<RestartGuardOptions> = {}) {
  const clock = new FakeClock();
  const calls = { restarts: 0, giveUps: 0 };
  const guard = new RestartGuard({
    restart: () => {
      calls.restarts++;
      return Promise.resolve();
    },
    onGiveUp: () => {
      calls.giveUps++;
    },
    maxRestarts: 3,
    windowMs: 60_000,
    debounceMs: 1_000,
    clock,
    ...overrides,
  });
  return { guard, clock, calls };
}

describe('RestartGuard', () => {
  it('turns deaths reported within the debounce delay into one restart, after the delay', async () => {
    const { guard, clock, calls } = makeGuard();

    assert.deepEqual([guard.requestRestart(), guard.requestRestart(), guard.requestRestart()], [
      'scheduled',
      'coalesced',
      'coalesced',
    ]);
    await clock.advance(999);
    assert.equal(calls.restarts, 0);
    await clock.advance(1);
    assert.equal(calls.restarts, 1);
  });

  it('restarts at most 3 times a minute, then gives up until the window has passed', async () => {
    const { guard, clock, calls } = makeGuard();

    for (let attempt = 1; attempt <= 3; attempt++) {
      assert.equal(guard.requestRestart(), 'scheduled');
      await clock.advance(1_000);
      assert.equal(calls.restarts, attempt);
    }
    assert.equal(guard.requestRestart(), 'gaveUp');
    assert.equal(calls.giveUps, 1);
    await clock.advance(10_000);
    assert.equal(calls.restarts, 3);

    // The first restart was scheduled at t=0: a minute later it has left the window.
    await clock.advance(60_000 - clock.now());
    assert.equal(guard.requestRestart(), 'scheduled');
    await clock.advance(1_000);
    assert.equal(calls.restarts, 4);
  });

  it('never runs two restarts at once: a death during a restart is handled after it', async () => {
    let finishRestart: () => void = () => undefined;
    let restarts = 0;
    const { guard, clock } = makeGuard({
      restart: () => {
        restarts++;
        return new Promise<void>((resolve) => {
          finishRestart = resolve;
        });
      },
    });

    guard.requestRestart();
    await clock.advance(1_000);
    assert.equal(restarts, 1);
    assert.equal(guard.requestRestart(), 'queued');
    await clock.advance(30_000);
    assert.equal(restarts, 1, 'a second restart started while the first was running');

    finishRestart();
    await settle();
    await clock.advance(1_000);
    assert.equal(restarts, 2);
  });

  it('counts a failed restart as one more death, up to the budget', async () => {
    const { guard, clock, calls } = makeGuard({
      restart: () => {
        calls.restarts++;
        return Promise.reject(new Error('python: No module named voicepilot'));
      },
    });

    guard.requestRestart();
    await clock.advance(10_000);
    assert.equal(calls.restarts, 3);
    assert.equal(calls.giveUps, 1);
  });

  it('reset() cancels a pending restart and gives a fresh budget', async () => {
    const { guard, clock, calls } = makeGuard();
    for (let attempt = 0; attempt < 3; attempt++) {
      guard.requestRestart();
      await clock.advance(1_000);
    }
    guard.reset();
    assert.equal(guard.requestRestart(), 'scheduled');

    guard.reset();
    await clock.advance(5_000);
    assert.equal(calls.restarts, 3, 'the restart pending at reset() still ran');
    assert.equal(calls.giveUps, 0);
  });

  it('does nothing once disposed', async () => {
    const { guard, clock, calls } = makeGuard();
    guard.requestRestart();
    guard.dispose();

    assert.equal(guard.requestRestart(), 'disposed');
    await clock.advance(5_000);
    assert.equal(calls.restarts, 0);
  });
});
