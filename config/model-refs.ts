// What the providers schema cannot say: every model an agent names must come from a provider
// that exists (configured under `providers:`, or one of the built-in names). Checked when the
// config is loaded, so a typo in a model reference is a file:line error, not a failed turn.

/** Providers that work without an entry under `providers:` (their key is in the usual variable). */
export const BUILT_IN_PROVIDERS = ['anthropic', 'openai', 'google', 'openrouter'] as const;

export interface ModelRefIssue {
  /** Dotted path, e.g. agents[0].model.fallbacks[1]. */
  path: string;
  message: string;
  atKey?: boolean;
}

type RawModel = string | { primary?: unknown; fallbacks?: unknown };

/** Expects values that passed the schema; returns one issue per reference to an unknown provider. */
export function validateModelRefs(providers: unknown, agents: unknown): ModelRefIssue[] {
  const configured = new Set(Object.keys((providers as Record<string, unknown> | undefined) ?? {}));
  const issues: ModelRefIssue[] = [];
  const check = (ref: unknown, path: string) => {
    if (typeof ref !== 'string') return;
    const provider = ref.slice(0, ref.indexOf('/'));
    if (configured.has(provider) || (BUILT_IN_PROVIDERS as readonly string[]).includes(provider)) return;
    issues.push({
      path,
      message: `'${ref}' names provider '${provider}', which is neither configured under providers: nor built in (${BUILT_IN_PROVIDERS.join(', ')})`,
    });
  };
  const list = (Array.isArray(agents) ? agents : []) as Array<{ model?: RawModel }>;
  for (const [i, agent] of list.entries()) {
    const model = agent?.model;
    if (model === undefined) continue;
    if (typeof model === 'string') {
      check(model, `agents[${i}].model`);
      continue;
    }
    check(model.primary, `agents[${i}].model.primary`);
    const fallbacks: unknown[] = Array.isArray(model.fallbacks) ? model.fallbacks : [];
    for (const [j, ref] of fallbacks.entries()) check(ref, `agents[${i}].model.fallbacks[${j}]`);
  }
  return issues;
}
