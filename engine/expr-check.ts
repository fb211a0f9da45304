// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
/** Compile-time parsing and type-checking of CEL expressions against a step's visible context. */
import { Environment } from '@marcbachmann/cel-js';
import { DYN, type TypeSpec } from './cel-types.js';
import { didYouMean } from './errors.js';

/** What an expression at one place in the pipeline may see. */
export interface Scope {
  /** Ids of steps whose results are visible (`steps.<id>`). */
  steps: string[];
  /** Variables set so far (`vars.<name>`) and their CEL types. */
  vars: Map<string, string>;
  /** Extra top-level names: the foreach element and `index`, `error` in catch. */
  locals: Map<string, TypeSpec>;
}

export interface CheckFailure {
  message: string;
  /** Offset inside the CEL source where the problem is. */
  start: number;
}

export type CheckResult = { ok: true; type: string } | { ok: false; error: CheckFailure };

export interface CheckerOptions {
  inputs: TypeSpec;
  message: TypeSpec;
  /** Names allowed under `env`; undefined when the pipeline declares no `env:`. */
  env: string[] | undefined;
  /** Output type of every step, by id. */
  stepOutputs: Map<string, TypeSpec>;
}

const ENV_OPTIONS = { homogeneousAggregateLiterals: false, limits: { maxAstNodes: 5000, maxDepth: 64 } };

export class ExpressionChecker {
  private readonly base: Environment;
  private readonly scopes = new Map<string, Environment>();
  private counter = 0;

  constructor(private readonly opts: CheckerOptions) {
    const env = new Environment(ENV_OPTIONS);
    env.registerVariable('inputs', this.register(env, 'Inputs', opts.inputs));
    env.registerVariable('message', this.register(env, 'Message', opts.message));
    if (opts.env) {
      const fields: Record<string, TypeSpec> = {};
      for (const name of opts.env) fields[name] = 'string';
      env.registerVariable(
        'env',
        opts.env.length ? this.register(env, 'Env', { fields }) : 'map<string, string>',
      );
    }
    for (const [id, spec] of opts.stepOutputs) {
      const output = this.register(env, `Output_${id}`, spec);
      env.registerType(`Step_${id}`, { fields: { status: 'string', output } });
    }
    this.base = env;
  }

  /** Register nested object types; returns the CEL type name to use. */
  private register(env: Environment, name: string, spec: TypeSpec): string {
    if (typeof spec === 'string') return spec;
    if ('list' in spec) return `list<${this.register(env, `${name}_item`, spec.list)}>`;
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec.fields)) fields[k] = this.register(env, `${name}_${k}`, v);
    const typeName = `${name}_${this.counter++}`.replace(/[^A-Za-z0-9_]/g, '_');
    env.registerType(typeName, { fields });
    return typeName;
  }

  private envFor(scope: Scope): Environment {
    const key = `${scope.steps.join(',')}|${[...scope.vars].map(([k, t]) => `${k}:${t}`).join(',')}|${[
      ...scope.locals,
    ]
      .map(([k, t]) => `${k}:${JSON.stringify(t)}`)
      .join(',')}`;
    let env = this.scopes.get(key);
    if (env) return env;
    env = this.base.clone();
    const stepFields: Record<string, string> = {};
    for (const id of scope.steps) stepFields[id] = `Step_${id}`;
    env.registerType('Steps', { fields: stepFields });
    env.registerVariable('steps', 'Steps');
    {
      const varFields: Record<string, string> = {};
      for (const [k, t] of scope.vars) varFields[k] = t;
      try {
        env.registerType('Vars', { fields: varFields });
      } catch {
        for (const k of Object.keys(varFields)) varFields[k] = DYN;
        env.registerType('Vars_dyn', { fields: varFields });
        env.registerVariable('vars', 'Vars_dyn');
      }
      if (!env.hasVariable('vars')) env.registerVariable('vars', 'Vars');
    }
    for (const [name, spec] of scope.locals)
      env.registerVariable(name, this.register(env, `Local_${name}`, spec));
    this.scopes.set(key, env);
    return env;
  }

  check(cel: string, scope: Scope): CheckResult {
    if (!cel.trim()) return { ok: false, error: { message: 'empty expression', start: 0 } };
    let result: ReturnType<Environment['check']>;
    try {
      result = this.envFor(scope).check(cel);
    } catch (e) {
      return { ok: false, error: { message: `invalid expression: ${(e as Error).message}`, start: 0 } };
    }
    if (result.valid) return { ok: true, type: result.type ?? DYN };
    const err = result.error as {
      code?: string;
      summary?: string;
      message: string;
      range?: { start: number; end: number };
    };
    const start = err.range?.start ?? 0;
    const end = err.range?.end ?? start;
    return {
      ok: false,
      error: { message: this.explain(cel, err.code, err.summary ?? err.message, start, end, scope), start },
    };
  }

  private explain(
    cel: string,
    code: string | undefined,
    summary: string,
    start: number,
    end: number,
    scope: Scope,
  ): string {
    const word = cel.slice(start, end);
    const shown = `\${{ ${cel.trim()} }}`;
    if (code === 'unknown_variable') {
      const names = [
        'inputs',
        'steps',
        'vars',
        'message',
        ...(this.opts.env ? ['env'] : []),
        ...scope.locals.keys(),
      ];
      if (word === 'env') {
        return `'env' is not available in ${shown}: list the environment variables this pipeline may read under 'env:' at the top level`;
      }
      return `unknown name '${word}' in ${shown}${didYouMean(word, names)}; expected one of: ${names.join(', ')}`;
    }
    if (code === 'no_such_key') {
      const receiver = /([A-Za-z_][A-Za-z0-9_.]*)\s*\.\s*$/.exec(cel.slice(0, start))?.[1];
      if (receiver === 'steps') {
        const named = scope.steps.filter((id) => !id.startsWith('_'));
        return `no step '${word}' is visible in ${shown}${didYouMean(word, named)}; a step can use the output of steps before it (or listed in needs:)${named.length ? `: ${named.join(', ')}` : ', and there are none'}`;
      }
      if (receiver === 'vars') {
        const names = [...scope.vars.keys()];
        return `no variable '${word}' is set before ${shown}${didYouMean(word, names)}${names.length ? `; set so far: ${names.join(', ')}` : '; use a set: step first'}`;
      }
      if (receiver === 'inputs') {
        const names =
          typeof this.opts.inputs === 'object' && 'fields' in this.opts.inputs
            ? Object.keys(this.opts.inputs.fields)
            : [];
        return `no input '${word}' in ${shown}${didYouMean(word, names)}; declared inputs: ${names.join(', ') || 'none'}`;
      }
      if (receiver === 'env') {
        return `environment variable '${word}' is not listed under 'env:' (used in ${shown}); listed: ${this.opts.env?.join(', ') || 'none'}`;
      }
      return `'${receiver ?? 'value'}' has no field '${word}' (in ${shown})`;
    }
    return `${summary} in ${shown}`;
  }
}
