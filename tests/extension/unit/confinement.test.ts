// The rules that keep the editor tools inside the workspace and away from secrets.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  confine,
  isWithin,
  parseToolPath,
  secretReason,
  type Resolver,
} from '../../../extension/src/tools/confinement';

describe('parseToolPath', () => {
  const posix = (raw: string) => parseToolPath(raw, path.posix);
  const win32 = (raw: string) => parseToolPath(raw, path.win32);

  it('normalises a relative path: separators, `.` and `..` that stay inside', () => {
    assert.deepEqual(posix('./src\\main.py'), { ok: true, kind: 'relative', path: 'src/main.py' });
    assert.deepEqual(posix('src/../lib/./a.py'), { ok: true, kind: 'relative', path: 'lib/a.py' });
    assert.deepEqual(posix('a//b'), { ok: true, kind: 'relative', path: 'a/b' });
  });

  it('refuses `..` past the folder, `~`, URLs and UNC shares as outside the workspace', () => {
    for (const raw of [
      '../outside.txt',
      '../../outside.txt',
      'src/../../outside.txt',
      '..\\..\\outside.txt',
      '~/.ssh/id_rsa',
      '~root/.bashrc',
      'file:///etc/passwd',
      'vscode-remote://ssh-remote+host/etc/passwd',
      'https://example.invalid/x',
      '\\\\server\\share\\secret.txt',
      '//server/share/secret.txt',
    ]) {
      for (const parse of [posix, win32]) {
        const parsed = parse(raw);
        assert.equal(parsed.ok, false, raw);
        assert.match(parsed.ok ? '' : parsed.error, /is outside the workspace/, raw);
      }
    }
  });

  it('takes an absolute path as absolute, to be checked against the folders', () => {
    assert.deepEqual(posix('/work/ws/a.py'), { ok: true, kind: 'absolute', path: '/work/ws/a.py' });
    assert.deepEqual(posix('/work/ws/../../etc/passwd'), { ok: true, kind: 'absolute', path: '/etc/passwd' });
    assert.deepEqual(win32('C:\\Users\\me\\a.py'), { ok: true, kind: 'absolute', path: 'C:\\Users\\me\\a.py' });
    assert.deepEqual(win32('c:/Users/me/a.py'), { ok: true, kind: 'absolute', path: 'c:\\Users\\me\\a.py' });
  });

  it('refuses a drive letter where there are none, control characters and nothing', () => {
    assert.match(JSON.stringify(posix('C:\\Windows\\win.ini')), /outside the workspace/);
    assert.match(JSON.stringify(posix('a\u0000b')), /not a usable file path/);
    assert.match(JSON.stringify(posix('./.')), /a folder, not a file/);
  });
});

describe('isWithin', () => {
  it('is true for the folder and what lies below it, false for a sibling with the same prefix', () => {
    assert.equal(isWithin('/ws', '/ws', path.posix), true);
    assert.equal(isWithin('/ws/a/b', '/ws', path.posix), true);
    assert.equal(isWithin('/ws-other/a', '/ws', path.posix), false);
    assert.equal(isWithin('/etc/passwd', '/ws', path.posix), false);
    assert.equal(isWithin('/ws/..foo', '/ws', path.posix), true);
    assert.equal(isWithin('D:\\ws\\a', 'C:\\ws', path.win32), false);
    assert.equal(isWithin('c:\\WS\\a', 'C:\\ws', path.win32), true);
  });
});

describe('secretReason', () => {
  it('names the files that look secret', () => {
    const secret = [
      '.env',
      '.env.local',
      'config/.env.production',
      '.ENV',
      'certs/server.pem',
      'tls/server.key',
      'keys/id_rsa',
      'keys/id_ed25519.pub',
      '.ssh/config',
      '.git/config',
      'sub/.git/hooks/pre-commit',
      '.npmrc',
      '.pypirc',
      '.netrc',
      '.aws/credentials',
      'credentials',
      'vault.kdbx',
      'store.p12',
      'infra/terraform.tfstate',
      '.git',
    ];
    for (const file of secret) {
      assert.ok(secretReason(file) !== undefined, file);
    }
    assert.equal(secretReason('.env.example'), 'a .env file');
    assert.equal(secretReason('.git/HEAD'), 'it is in a .git folder');
    assert.equal(secretReason('id_rsa'), 'an SSH key');
  });

  it('lets ordinary files through', () => {
    for (const file of ['src/main.py', 'README.md', 'environment.yml', 'src/keyboard.ts', 'docs/id_card.md', '.gitignore', 'monkey.json']) {
      assert.equal(secretReason(file), undefined, file);
    }
  });

  it("lets through the names the user allowed, wildcards and any case, and nothing else", () => {
    assert.equal(secretReason('.env.example', ['.env.example']), undefined);
    assert.equal(secretReason('.env', ['.env.example']), 'a .env file');
    assert.equal(secretReason('certs/dev.PEM', ['*.pem']), undefined);
    assert.equal(secretReason('.git/config', ['.git']), undefined);
    assert.equal(secretReason('.git/config', ['config']), 'it is in a .git folder');
    assert.equal(secretReason('a.key', ['a?key']), undefined);
    assert.equal(secretReason('a.key', ['(.*)']), 'a .key file');
  });
});

describe('confine, on a real file system', () => {
  let root: string;
  let workspace: string;
  const resolver: Resolver = { path, realpath: async (file) => fs.realpath(file).catch(() => undefined) };
  const check = (file: string, allowed: string[] = []) => confine(file, [workspace], resolver, allowed, path.basename(file));

  before(async () => {
    root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'voicepilot-confine-')));
    workspace = path.join(root, 'ws');
    await fs.mkdir(path.join(workspace, 'src'), { recursive: true });
    await fs.mkdir(path.join(root, 'outside'));
    await fs.writeFile(path.join(root, 'outside', 'secret.txt'), 'outside\n');
    await fs.writeFile(path.join(workspace, 'src', 'a.py'), 'a = 1\n');
    await fs.writeFile(path.join(workspace, '.env'), 'TOKEN=x\n');
    await fs.symlink(path.join(root, 'outside', 'secret.txt'), path.join(workspace, 'link.txt'));
    await fs.symlink(path.join(root, 'outside'), path.join(workspace, 'linkdir'));
    await fs.symlink(path.join(workspace, '.env'), path.join(workspace, 'notes.txt'));
    await fs.symlink(path.join(workspace, 'src', 'a.py'), path.join(workspace, 'alias.py'));
  });

  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('accepts a file inside, with its workspace-relative name', async () => {
    assert.deepEqual(await check(path.join(workspace, 'src', 'a.py')), {
      ok: true,
      realPath: path.join(workspace, 'src', 'a.py'),
      relative: 'src/a.py',
    });
  });

  it('follows a link that stays inside to its target', async () => {
    assert.deepEqual(await check(path.join(workspace, 'alias.py')), {
      ok: true,
      realPath: path.join(workspace, 'src', 'a.py'),
      relative: 'src/a.py',
    });
  });

  it('refuses a link to a file outside, and a file under a linked folder outside', async () => {
    for (const file of [path.join(workspace, 'link.txt'), path.join(workspace, 'linkdir', 'secret.txt')]) {
      const result = await check(file);
      assert.equal(result?.ok, false, file);
      assert.match(result?.ok === false ? result.error : '', /is outside the workspace/);
      assert.equal(result?.ok === false ? result.rule : undefined, 'outside');
    }
  });

  it('refuses a path outside, even one that does not exist', async () => {
    assert.equal((await check(path.join(root, 'outside', 'secret.txt')))?.ok, false);
    assert.equal((await check(path.join(root, 'outside', 'missing.txt')))?.ok, false);
  });

  it('refuses a secret by its own name and by the name of what a link points at', async () => {
    for (const file of [path.join(workspace, '.env'), path.join(workspace, 'notes.txt')]) {
      const result = await check(file);
      assert.equal(result?.ok === false ? result.rule : undefined, 'secret', file);
      assert.match(result?.ok === false ? result.error : '', /looks like it holds secrets \(a \.env file\)/);
    }
    assert.equal((await check(path.join(workspace, '.env'), ['.env']))?.ok, true);
  });

  it('answers undefined for a missing file inside', async () => {
    assert.equal(await check(path.join(workspace, 'missing.py')), undefined);
  });
});
