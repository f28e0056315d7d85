import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sidecarProcess } from '../../../extension/src/sidecar/process';

describe('sidecarProcess', () => {
  const extension = '/opt/ext/voicepilot';

  it("starts in the extension's own server folder, never the workspace, with a safe sys.path", () => {
    const spawned = sidecarProcess(extension, '/usr/bin/python3', { PATH: '/usr/bin', PYTHONPATH: '/site' });
    assert.deepEqual(spawned.args, ['-m', 'voicepilot', 'sidecar']);
    assert.equal(spawned.cwd, path.join(extension, 'server'));
    assert.equal(spawned.env['PYTHONSAFEPATH'], '1');
    assert.equal(spawned.env['PYTHONPATH'], [path.join(extension, 'server'), '/site'].join(path.delimiter));
    assert.equal(spawned.env['PATH'], '/usr/bin');
  });

  it('puts only the server folder on PYTHONPATH when the editor has none', () => {
    assert.equal(sidecarProcess(extension, 'python3', {}).env['PYTHONPATH'], path.join(extension, 'server'));
  });
});
