// What the bench takes from s.yaml: each function's timeout and memory (for the FC context) and
// its literal environment (concurrency, timeouts, retries, log level), so that "the configured
// concurrency" is the deployed one. `${vars.x}` is resolved; `${env(...)}` and the like are left
// out (secrets, the instance id): the bench sets what it needs itself.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { FunctionSpec } from './fc-context';

export interface DeployedFunction {
  fn: FunctionSpec;
  env: Record<string, string>;
}

interface SYaml {
  vars?: Record<string, unknown>;
  resources?: Record<string, { props?: { functionName?: string; timeout?: number; memorySize?: number; environmentVariables?: Record<string, unknown> } }>;
}

export function readDeployment(root: string): { withdraw: DeployedFunction; cleanup: DeployedFunction } {
  const doc = parse(readFileSync(path.join(root, 's.yaml'), 'utf8')) as SYaml;
  const vars = doc.vars ?? {};
  const resolve = (value: unknown): string | undefined => {
    const text = String(value).replace(/\$\{vars\.(\w+)\}/g, (whole, name: string) => (typeof vars[name] === 'string' || typeof vars[name] === 'number' ? String(vars[name]) : whole));
    return text.includes('${') ? undefined : text;
  };
  const read = (resource: string, fallbackName: string): DeployedFunction => {
    const props = doc.resources?.[resource]?.props;
    if (!props) throw new Error(`s.yaml has no resources.${resource}.props`);
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(props.environmentVariables ?? {})) {
      const text = resolve(value);
      if (text !== undefined) env[name] = text;
    }
    return {
      fn: { name: resolve(props.functionName) ?? fallbackName, timeout: Number(props.timeout ?? 60), memory: Number(props.memorySize ?? 128) },
      env,
    };
  };
  return { withdraw: read('withdraw', 'withdraw'), cleanup: read('cleanup', 'cleanup') };
}
