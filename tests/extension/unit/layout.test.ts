// The folders of extension/src and which may import which: the sidecar's messages feed the
// conversation, the views show it, and the commands are the top that nothing imports.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.join(__dirname, '..', '..');
const source = path.join(root, 'extension', 'src');

/** The sidecar's core: the process and its protocol, which know nothing of what the messages are for. */
const SIDECAR_CORE = ['client', 'contract', 'process', 'redact', 'restartGuard', 'sessionParams'].map(
  (name) => `sidecar/${name}.ts`,
);

interface Rule {
  readonly why: string;
  applies(file: string): boolean;
  forbids(target: string): boolean;
}

const inFolder = (folder: string) => (file: string) => file.startsWith(`${folder}/`);
const anyOf =
  (...folders: string[]) =>
  (target: string) =>
    folders.some((folder) => target.startsWith(`${folder}/`) || target === `${folder}.ts`);

const RULES: readonly Rule[] = [
  {
    why: 'only extension.ts wires the commands in',
    applies: (file) => !inFolder('commands')(file) && file !== 'extension.ts',
    forbids: anyOf('commands'),
  },
  { why: 'nothing imports the entry point', applies: () => true, forbids: (target) => target === 'extension.ts' },
  {
    why: 'the editor tools know only the contract and the settings',
    applies: inFolder('tools'),
    forbids: (target) =>
      anyOf('views', 'conversation', 'commands')(target) || (target.startsWith('sidecar/') && target !== 'sidecar/contract.ts'),
  },
  {
    why: 'settings know nothing of what reads them',
    applies: inFolder('settings'),
    forbids: anyOf('views', 'conversation', 'tools', 'commands'),
  },
  {
    why: 'the conversation is told by the sidecar and shown by the views; it knows neither',
    applies: inFolder('conversation'),
    forbids: (target) =>
      anyOf('views', 'commands')(target) || (target.startsWith('sidecar/') && target !== 'sidecar/contract.ts'),
  },
  { why: 'the views show state; they do not act', applies: inFolder('views'), forbids: anyOf('tools', 'commands') },
  {
    why: "the sidecar's core knows nothing of what its messages are for",
    applies: (file) => SIDECAR_CORE.includes(file),
    forbids: anyOf('views', 'conversation', 'tools', 'commands', 'settings'),
  },
  {
    why: "the voice engine's setup is told what to look at; it reads no setting and knows no sidecar",
    applies: inFolder('environment'),
    forbids: anyOf('views', 'conversation', 'tools', 'commands', 'settings', 'sidecar'),
  },
];

/** Every relative import of `text`, as a path under extension/src (with `.ts`); others are skipped. */
function importsOf(file: string, text: string): string[] {
  const targets: string[] = [];
  for (const match of text.matchAll(/\bfrom\s+'(\.[^']*)'/g)) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1] ?? ''));
    if (!target.startsWith('..')) {
      targets.push(`${target}.ts`);
    }
  }
  return targets;
}

/** The imports that break a rule, as `file -> target (why)`. */
function forbiddenImports(files: ReadonlyMap<string, string>): string[] {
  const broken: string[] = [];
  for (const [file, text] of files) {
    for (const target of importsOf(file, text)) {
      for (const rule of RULES) {
        if (rule.applies(file) && rule.forbids(target)) {
          broken.push(`${file} -> ${target} (${rule.why})`);
        }
      }
    }
  }
  return broken;
}

function sources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(source, { recursive: true, encoding: 'utf8' })) {
    if (entry.endsWith('.ts')) {
      const file = entry.split(path.sep).join('/');
      files.set(file, readFileSync(path.join(source, entry), 'utf8'));
    }
  }
  return files;
}

describe('extension/src layout', () => {
  it('keeps every file in a folder of its concern, beside the entry point and what the manifest shares', () => {
    const topLevel = [...sources().keys()].filter((file) => !file.includes('/')).sort();

    assert.deepEqual(topLevel, ['contextKeys.ts', 'extension.ts', 'ids.ts']);
  });

  it('imports only in the directions the folders allow', () => {
    assert.deepEqual(forbiddenImports(sources()), []);
  });

  it('finds a planted forbidden import, type-only or not', () => {
    const planted = new Map(sources());
    planted.set('views/planted.ts', "import type { Controller } from '../commands/controller';\n");
    planted.set('tools/planted.ts', "import { Sidecar } from '../sidecar/client';\n");
    planted.set('conversation/planted.ts', "import { describeStatusBar } from '../views/presentation';\n");

    assert.deepEqual(forbiddenImports(planted), [
      'views/planted.ts -> commands/controller.ts (only extension.ts wires the commands in)',
      'views/planted.ts -> commands/controller.ts (the views show state; they do not act)',
      'tools/planted.ts -> sidecar/client.ts (the editor tools know only the contract and the settings)',
      'conversation/planted.ts -> views/presentation.ts (the conversation is told by the sidecar and shown by the views; it knows neither)',
    ]);
  });
});
