import { statSync } from 'node:fs';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { nodeHost, runProcess } from '../../../extension/src/environment/nodeHost';

/** Node itself stands in for the installers: it is the one program every machine running these tests has. */
const NODE = process.execPath;

describe('runProcess', () => {
  it('hands every line of stdout and stderr on as it comes, and the exit code', async () => {
    const seen: string[] = [];
    const result = await runProcess(
      NODE,
      ['-e', "console.log('one'); console.error('two'); process.stdout.write('three'); process.exit(3)"],
      (line) => seen.push(line),
    );

    assert.equal(result.exitCode, 3);
    assert.deepEqual([...seen].sort(), ['one', 'three', 'two']);
    assert.deepEqual([...result.lines].sort(), ['one', 'three', 'two']);
  });

  it('runs nothing of the workspace: a private directory and no PYTHONPATH', async () => {
    const saved = process.env['PYTHONPATH'];
    process.env['PYTHONPATH'] = '/some/workspace';
    try {
      const result = await runProcess(
        NODE,
        ['-e', "console.log(process.cwd()); console.log(process.env.PYTHONPATH ?? 'unset'); console.log(process.env.PYTHONSAFEPATH)"],
        () => undefined,
      );
      const [cwd, ...rest] = result.lines;
      assert.deepEqual(rest, ['unset', '1']);
      // Not the shared temporary directory itself (anyone may write there), but a 0700 folder in it.
      assert.equal(path.dirname(cwd), await realTmpdir());
      assert.match(path.basename(cwd), /^voicepilot-setup-/);
      assert.equal(statSync(cwd).mode & 0o777, 0o700);
    } finally {
      if (saved === undefined) {delete process.env['PYTHONPATH'];}
      else {process.env['PYTHONPATH'] = saved;}
    }
  });

  it('reports a program that is not there as not started, without throwing', async () => {
    const result = await runProcess('/nonexistent/python3', ['-c', 'pass'], () => undefined);

    assert.equal(result.exitCode, undefined);
  });

  it('stops the program on cancel and rejects with a cancelled SetupError', async () => {
    const abort = new AbortController();
    const running = runProcess(NODE, ['-e', "console.log('started'); setInterval(() => {}, 1000)"], (line) => {
      if (line === 'started') {abort.abort();}
    }, abort.signal);

    await assert.rejects(running, { name: 'SetupError', kind: 'cancelled' });
  });
});

describe('nodeHost', () => {
  it('renames a folder into place and removes what is left', async () => {
    const storage = await mkdtemp(path.join(os.tmpdir(), 'voicepilot-host-'));
    try {
      const host = nodeHost(storage, '/ext', () => undefined);
      await host.mkdir(path.join(storage, 'python', 'env-a.partial-1', 'bin'));
      await host.writeFile(path.join(storage, 'python', 'env-a.partial-1', 'bin', 'python'), '');
      await host.rename(path.join(storage, 'python', 'env-a.partial-1'), path.join(storage, 'python', 'env-a'));

      assert.deepEqual(await readdir(path.join(storage, 'python')), ['env-a']);
      assert.equal(await host.exists(path.join(storage, 'python', 'env-a', 'bin', 'python')), true);
      const modified = await host.mtime(path.join(storage, 'python', 'env-a'));
      assert.ok(modified !== undefined && Math.abs(Date.now() - modified) < 60_000, String(modified));
      await host.remove(path.join(storage, 'python', 'env-a'));
      assert.deepEqual(await host.readdir(path.join(storage, 'python')), []);
      assert.equal(await host.mtime(path.join(storage, 'python', 'env-a')), undefined);
    } finally {
      await rm(storage, { recursive: true, force: true });
    }
  });
});

async function realTmpdir(): Promise<string> {
  const { realpath } = await import('node:fs/promises');
  return realpath(os.tmpdir());
}
