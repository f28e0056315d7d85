import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FollowedChange } from '../../../extension/src/commands/controller';

describe('FollowedChange', () => {
  it('skips nothing until a change is expected', () => {
    const followed = new FollowedChange();

    assert.equal(followed.consume(), false);
  });

  it('skips exactly the one change that was expected', () => {
    const followed = new FollowedChange();
    followed.expect();

    assert.equal(followed.consume(), true);
    assert.equal(followed.consume(), false);
  });

  it('keeps each controller its own expectation (no module-level flag)', () => {
    const first = new FollowedChange();
    const second = new FollowedChange();
    first.expect();

    assert.equal(second.consume(), false);
    assert.equal(first.consume(), true);
  });
});
