import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TranscriptModel } from '../../../extension/src/conversation/transcriptModel';

describe('TranscriptModel', () => {
  it('grows a turn as its deltas arrive and keeps the time of its first words', () => {
    const model = new TranscriptModel();
    model.apply({ role: 'user', itemId: 'a', text: 'go to', final: false, sessionId: 's1' }, 1000);
    model.apply({ role: 'user', itemId: 'a', text: 'go to line twelve', final: true }, 2000);
    model.apply({ role: 'assistant', itemId: 'b', text: 'Done.', final: true }, 3000);

    assert.deepEqual(model.turns, [
      { itemId: 'a', role: 'user', text: 'go to line twelve', final: true, startedAt: 1000, sessionId: 's1' },
      { itemId: 'b', role: 'assistant', text: 'Done.', final: true, startedAt: 3000, sessionId: undefined },
    ]);
  });

  it('skips empty turns and exports Markdown with speakers, times and escaped text', () => {
    const model = new TranscriptModel();
    assert.equal(model.apply({ role: 'user', itemId: 'x', text: '  ', final: false }, 0), undefined);
    model.apply({ role: 'user', itemId: 'a', text: 'open *main*', final: true, sessionId: 'vp_1' }, 5);
    model.apply({ role: 'assistant', itemId: 'b', text: 'Opening', final: false, sessionId: 'vp_1' }, 6);

    assert.equal(
      model.toMarkdown((at) => `t${at}`),
      [
        '# VoicePilot transcript',
        '',
        '## Conversation vp_1',
        '',
        '**You** (t5): open \\*main\\*',
        '',
        '**VoicePilot** (t6): Opening *(unfinished)*',
        '',
      ].join('\n'),
    );
    model.clear();
    assert.match(model.toMarkdown(String), /Nothing was said yet/);
  });
});
