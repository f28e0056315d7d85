// What the .vsix carries and how it shows on the Marketplace: the private environment's inputs,
// the marketplace basics, and a push-to-talk shortcut clear of VS Code Speech and VS Code.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import manifest from '../../../package.json';
import { SUPPORTED_MINOR_VERSIONS } from '../../../extension/src/environment/pythonEnvironment';

const root = path.join(__dirname, '..', '..');

/** Shortcuts taken already: VS Code Speech's Start Dictation in Editor, and VS Code's own near misses. */
const TAKEN = new Set(['ctrl+alt+v', 'cmd+alt+v', 'ctrl+alt+space', 'ctrl+space', 'ctrl+shift+space']);

describe('the .vsix', () => {
  it('lets in the wheel, every lock file and the icon, and builds the wheel when packaged', () => {
    const ignore = readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n');

    assert.ok(ignore.includes('!dist/python/voicepilot-*.whl'));
    assert.ok(ignore.includes('!requirements/py3.*.txt'));
    assert.ok(ignore.includes(`!${manifest.icon}`));
    assert.match(manifest.scripts['vscode:prepublish'], /build:wheel/);
    for (const minor of SUPPORTED_MINOR_VERSIONS) {
      assert.ok(existsSync(path.join(root, 'requirements', `py3.${minor}.txt`)), `requirements/py3.${minor}.txt`);
    }
  });

  it("lets in every image and page the README shows or links to, so the details page has them", () => {
    const ignore = readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n');
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(((?:docs\/|CONTRIBUTING)[^)#\s]*)/g)].map((match) => match[1]);

    assert.ok(targets.length > 3);
    for (const target of targets) {
      const letIn = target.endsWith('.png') ? '!docs/screenshots/*.png' : target.startsWith('docs/') ? '!docs/*.md' : `!${target}`;
      assert.ok(ignore.includes(letIn), `${target} needs ${letIn} in .vscodeignore`);
      assert.ok(existsSync(path.join(root, target)), target);
    }
  });

  it('has the marketplace basics', () => {
    assert.equal(manifest.preview, true);
    assert.ok(existsSync(path.join(root, manifest.icon)));
    assert.ok(existsSync(path.join(root, 'LICENSE')));
    assert.ok(existsSync(path.join(root, 'CHANGELOG.md')));
    assert.ok(manifest.categories.length > 0 && manifest.keywords.length > 0);
  });

  it('binds no shortcut that VS Code Speech or VS Code already uses', () => {
    for (const binding of manifest.contributes.keybindings) {
      assert.ok(!TAKEN.has(binding.key), binding.key);
      assert.ok(!TAKEN.has(binding.mac), binding.mac);
    }
  });
});
