// The private environment's EnvironmentHost on this machine: processes, files, PATH and pip's
// configuration through Node, without the editor, so scripts and tests can drive it too.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EnvironmentHost, RunResult } from './pythonEnvironment';
import { SetupError } from './setupErrors';

/** Nothing from the workspace: a private directory, no PYTHONPATH, no current directory on sys.path. */
function processEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { ...process.env, PYTHONSAFEPATH: '1', PYTHONUNBUFFERED: '1' };
  delete environment['PYTHONPATH'];
  delete environment['PYTHONHOME'];
  return environment;
}

/**
 * The directory the setup's processes run in: private to this user (mkdtemp makes it 0700), because
 * a shared one such as /tmp is on Python 3.10's sys.path under `-m`, and uv reads a uv.toml there.
 */
let workingDirectory: string | undefined;
export function privateWorkingDirectory(): string {
  workingDirectory ??= mkdtempSync(path.join(os.tmpdir(), 'voicepilot-setup-'));
  return workingDirectory;
}

export function runProcess(
  command: string,
  args: readonly string[],
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const child = spawn(command, args, {
      cwd: privateWorkingDirectory(),
      env: processEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
    });
    const collect = (stream: NodeJS.ReadableStream): void => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (rest + chunk).split(/\r?\n/);
        rest = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          onLine(line);
        }
      });
      stream.on('end', () => {
        if (rest !== '') {
          lines.push(rest);
          onLine(rest);
        }
      });
    };
    collect(child.stdout);
    collect(child.stderr);
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') {
        reject(new SetupError('cancelled', 'cancelled'));
      } else if (error.code === 'ENOENT' || error.code === 'EACCES') {
        resolve({ exitCode: undefined, lines: [error.message] });
      } else {
        reject(error);
      }
    });
    child.on('close', (code) => {
      if (signal?.aborted) {
        reject(new SetupError('cancelled', 'cancelled'));
      } else {
        resolve({ exitCode: code ?? -1, lines });
      }
    });
  });
}

/** pip's configuration files and variables: with one, pip (not uv) installs, so the user's index, proxy and certificates apply. */
const PIP_VARIABLES = /^PIP_(INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|NO_INDEX|CONFIG_FILE|CERT|PROXY|TRUSTED_HOST|CLIENT_CERT)$/;
async function hasPipConfiguration(): Promise<boolean> {
  if (Object.keys(process.env).some((name) => PIP_VARIABLES.test(name))) {
    return true;
  }
  const home = os.homedir();
  const files =
    process.platform === 'win32'
      ? [
          path.join(process.env['APPDATA'] ?? home, 'pip', 'pip.ini'),
          path.join(home, 'pip', 'pip.ini'),
          path.join(process.env['ProgramData'] ?? 'C:\\ProgramData', 'pip', 'pip.ini'),
        ]
      : [
          path.join(process.env['XDG_CONFIG_HOME'] ?? path.join(home, '.config'), 'pip', 'pip.conf'),
          path.join(home, '.pip', 'pip.conf'),
          path.join(home, 'Library', 'Application Support', 'pip', 'pip.conf'),
          '/etc/pip.conf',
          '/etc/xdg/pip/pip.conf',
        ];
  for (const file of files) {
    if (await fs.stat(file).then(() => true, () => false)) {
      return true;
    }
  }
  return false;
}

async function findOnPath(name: string): Promise<string | undefined> {
  const names = process.platform === 'win32' ? [`${name}.exe`] : [name];
  for (const folder of (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean)) {
    for (const candidate of names) {
      const file = path.join(folder, candidate);
      if ((await fs.stat(file).catch(() => undefined))?.isFile() === true) {
        return file;
      }
    }
  }
  return undefined;
}

export function nodeHost(storagePath: string, extensionPath: string, log: (line: string) => void): EnvironmentHost {
  return {
    storagePath,
    extensionPath,
    platform: process.platform,
    run: runProcess,
    readdir: (folder) => fs.readdir(folder),
    readFile: (file) => fs.readFile(file),
    writeFile: (file, content) => fs.writeFile(file, content, 'utf8'),
    mkdir: async (folder) => {
      await fs.mkdir(folder, { recursive: true });
    },
    rename: (from, to) => fs.rename(from, to),
    remove: (target) => fs.rm(target, { recursive: true, force: true }),
    exists: (file) => fs.stat(file).then(() => true, () => false),
    mtime: (file) => fs.stat(file).then((stat) => stat.mtimeMs, () => undefined),
    findUv: () => findOnPath('uv'),
    hasPipConfiguration,
    log,
  };
}
