import { ConfigError } from '../shared/errors.ts';

/** Which gateways an app is deployed to. */
export interface GatewaySelector {
  readonly text: string;
  /** Every term must match; none means every gateway. */
  readonly terms: readonly string[];
}

/**
 * Parses `--gateways`: `*` (every gateway), or terms joined by commas that must all match —
 * `id=gw-7` matches a gateway's id, `site=plant-7` one of its tags (`--tags site=plant-7`), and
 * a bare word a tag or the id.
 *
 * @example
 * const sel = parseSelector('site=plant-7,floor=2');
 * selectorMatches(sel, { id: 'gw-1', tags: ['site=plant-7', 'floor=2'] }); // true
 */
export function parseSelector(text: string | undefined): GatewaySelector {
  const t = (text ?? '*').trim();
  if (t === '*' || t === '') return { text: '*', terms: [] };
  const terms = t.split(',').map((s) => s.trim());
  const bad = terms.find((s) => s === '' || /\s/.test(s) || s.startsWith('=') || s.endsWith('='));
  if (bad !== undefined) {
    throw new ConfigError('CLOUD_BAD_SELECTOR', `gateway selector ${JSON.stringify(t)} has a bad term ${JSON.stringify(bad)}`, {
      where: '--gateways', fix: 'write * for every gateway, or terms such as site=plant-7,id=gw-1 (all must match)',
    });
  }
  return { text: terms.join(','), terms };
}

export function selectorMatches(sel: GatewaySelector, node: { readonly id: string; readonly tags: readonly string[] }): boolean {
  return sel.terms.every((term) => (term.startsWith('id=') ? node.id === term.slice(3) : node.tags.includes(term) || node.id === term));
}
