// Configuration problems found in a settings.json, on the line of the offending setting, with
// quick fixes: the same rules the sidecar applies when a conversation starts (realtime/endpoints.py),
// checked as the user types. Pure (jsonc-parser, no `vscode`), unit-tested; diagnostics.ts
// turns the problems into Problems-panel entries and code actions.
import { applyEdits, findNodeAtLocation, modify, parseTree, type Node } from 'jsonc-parser';

/** The regions the sidecar allows for the preview API unless voicepilot.azure.allowedRegions says otherwise. */
export const DEFAULT_ALLOWED_REGIONS: readonly string[] = ['eastus2', 'swedencentral'];
export const AZURE_HOST_SUFFIXES: readonly string[] = ['.openai.azure.com', '.cognitiveservices.azure.com'];

/** Settings as they apply (all scopes merged), for rules that involve more than one. */
export interface EffectiveSettings {
  readonly profile: string;
  readonly allowedRegions: readonly string[];
}

export interface QuickFix {
  readonly title: string;
  /** The settings.json text after the fix. */
  readonly apply: (text: string) => string;
}

export interface SettingsProblem {
  readonly setting: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
  /** Offsets of the setting's value in the file (its key when the value is not a literal). */
  readonly start: number;
  readonly end: number;
  readonly fixes: readonly QuickFix[];
}

/** 'East US 2' and 'eastus2' are the same region, as for the sidecar. */
export function normalizeRegion(name: string): string {
  return name.toLowerCase().replace(/ /g, '');
}

/** The problems of one settings.json file's text; a file that does not parse has none of ours. */
export function findSettingsProblems(text: string, effective: EffectiveSettings): SettingsProblem[] {
  const root = parseTree(text);
  if (root?.type !== 'object') {
    return [];
  }
  const problems: SettingsProblem[] = [];
  const valueOf = (setting: string): Node | undefined => findNodeAtLocation(root, [setting]);

  const region = valueOf('voicepilot.azure.region');
  if (region?.type === 'string' && typeof region.value === 'string' && region.value.trim() !== '') {
    const allowed = effective.allowedRegions.map(normalizeRegion);
    const value = normalizeRegion(region.value);
    if (!allowed.includes(value)) {
      problems.push({
        setting: 'voicepilot.azure.region',
        message:
          `The region '${region.value}' is not one of the allowed regions (${allowed.join(', ')}): the realtime ` +
          'preview is offered there only. Pick one, or add the region to voicepilot.azure.allowedRegions.',
        severity: 'error',
        ...span(region),
        fixes: [
          ...allowed.map((candidate) => ({
            title: `Use the region ${candidate}`,
            apply: (current: string) => setValue(current, 'voicepilot.azure.region', candidate),
          })),
          {
            title: `Add ${value} to voicepilot.azure.allowedRegions`,
            apply: (current: string) =>
              setValue(current, 'voicepilot.azure.allowedRegions', [...new Set([...allowed, value])]),
          },
        ],
      });
    }
  }

  const endpoint = valueOf('voicepilot.azure.endpoint');
  if (endpoint?.type === 'string' && typeof endpoint.value === 'string' && endpoint.value.trim() !== '') {
    const problem = endpointProblem(endpoint.value.trim());
    if (problem !== undefined) {
      problems.push({ setting: 'voicepilot.azure.endpoint', severity: 'error', ...span(endpoint), ...problem });
    }
  }

  const renew = valueOf('voicepilot.connection.renewIntervalS');
  const maxSession = valueOf('voicepilot.connection.maxSessionS');
  if (
    renew?.type === 'number' &&
    maxSession?.type === 'number' &&
    typeof renew.value === 'number' &&
    typeof maxSession.value === 'number' &&
    maxSession.value > 0 &&
    renew.value >= maxSession.value
  ) {
    problems.push({
      setting: 'voicepilot.connection.renewIntervalS',
      message: `Keys are renewed every ${renew.value} s, but a session lasts at most ${maxSession.value} s: renew more often.`,
      severity: 'warning',
      ...span(renew),
      fixes: [
        {
          title: `Renew every ${Math.max(1, Math.floor(maxSession.value / 2))} s`,
          apply: (current) =>
            setValue(current, 'voicepilot.connection.renewIntervalS', Math.max(1, Math.floor(maxSession.value / 2))),
        },
      ],
    });
  }

  const profile = valueOf('voicepilot.profile');
  if (profile?.value === 'azure' && effective.profile === 'azure') {
    const missing = ['voicepilot.azure.endpoint', 'voicepilot.azure.deployment'].filter((setting) => {
      const node = valueOf(setting);
      return !(node?.type === 'string' && typeof node.value === 'string' && node.value.trim() !== '');
    });
    if (missing.length > 0 && text.length > 0) {
      problems.push({
        setting: 'voicepilot.profile',
        message: `The azure profile needs ${missing.join(' and ')}; set them here or in your user settings.`,
        severity: 'warning',
        ...span(profile),
        fixes: [],
      });
    }
  }
  return problems;
}

function endpointProblem(url: string): Pick<SettingsProblem, 'message' | 'fixes'> | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {
      message: `'${url}' is not a URL: use your resource's endpoint, e.g. https://my-resource.openai.azure.com.`,
      fixes: [],
    };
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol === 'http:' && !loopback) {
    const secure = `https://${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
    return {
      message: 'Plain http is allowed only for the local engine on loopback: the key would travel in the clear.',
      fixes: [{ title: `Use ${secure}`, apply: (text) => setValue(text, 'voicepilot.azure.endpoint', secure) }],
    };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { message: `'${url}' is not an https URL.`, fixes: [] };
  }
  if (!loopback && !AZURE_HOST_SUFFIXES.some((suffix) => parsed.hostname.endsWith(suffix))) {
    return {
      message: `${parsed.hostname} is not an Azure OpenAI resource: its endpoint ends in ${AZURE_HOST_SUFFIXES.join(' or ')}.`,
      fixes: [],
    };
  }
  return undefined;
}

function span(node: Node): { start: number; end: number } {
  return { start: node.offset, end: node.offset + node.length };
}

/** The text with `setting` set to `value`, the rest of the file (comments included) untouched. */
export function setValue(text: string, setting: string, value: unknown): string {
  const edits = modify(text, [setting], value, { formattingOptions: { insertSpaces: true, tabSize: 2 } });
  return applyEdits(text, edits);
}
