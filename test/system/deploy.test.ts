// Checks the deployment artefacts (s.yaml, deploy/ram/*.json, the deploy docs) against the fc3
// component's props schema and the project's contract, has the installed Serverless Devs render
// and "deploy" s.yaml offline, and checks that the bundles s.yaml points at exist.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configVariables, parseCleanupConfig, parseWithdrawConfig } from '../../lib/runtime/config';
import { shell } from '../local/shell';
import { removeSHome } from '../support/s-home';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const schemaPath = path.resolve(root, 'test/fixtures/fc3-schema.json');

// Every environment variable the functions read (lib/runtime/config.ts; a test below holds the
// two to each other); s.yaml may set no other.
const SHARED_ENV = [
  'OUTBOUNDBOT_ENDPOINT',
  'OUTBOUNDBOT_PROTOCOL',
  'OUTBOUNDBOT_CONNECT_TIMEOUT_MS',
  'OUTBOUNDBOT_READ_TIMEOUT_MS',
  'RETRY_MAX_ATTEMPTS',
  'RETRY_BASE_DELAY_MS',
  'RETRY_MAX_DELAY_MS',
  'CALLBACK_URL',
  'CALLBACK_SECRET',
  'CALLBACK_ALLOWED_HOSTS',
  'CALLBACK_TIMEOUT_MS',
  'LOG_LEVEL',
  'ALLOWED_INSTANCE_IDS',
  'ALIBABA_CLOUD_ACCESS_KEY_ID',
  'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  'ALIBABA_CLOUD_SECURITY_TOKEN',
  'IDEMPOTENCY_REDIS_URL',
  'IDEMPOTENCY_TTL_SECONDS',
  'IDEMPOTENCY_TIMEOUT_MS',
];
const WITHDRAW_ONLY_ENV = ['WEBHOOK_SECRET', 'ALLOW_UNSIGNED_HTTP', 'BATCH_CONCURRENCY'];
const CLEANUP_ONLY_ENV = [
  'CLEANUP_MODE',
  'CLEANUP_CONCURRENCY',
  'WITHDRAW_FUNCTION_NAME',
  'FANOUT_CHUNK_SIZE',
  'FC_ENDPOINT',
  'FC_ACCOUNT_ID',
  'FC_REGION',
];
const DOCUMENTED_ENV: Record<string, string[]> = {
  withdraw: [...SHARED_ENV, ...WITHDRAW_ONLY_ENV],
  cleanup: [...SHARED_ENV, ...CLEANUP_ONLY_ENV],
};
// Read by the functions, but never set by s.yaml: the role's STS credentials and the FC context replace them.
const LOCAL_ONLY_ENV = ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN', 'FC_ENDPOINT', 'FC_ACCOUNT_ID', 'FC_REGION'];
// What `${env('…')}` stands for when s.yaml's values are parsed as the functions parse them.
const SAMPLE_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const SHELL_VALUES: Record<string, string> = {
  '<env:WEBHOOK_SECRET>': SAMPLE_SECRET,
  '<env:CALLBACK_SECRET>': SAMPLE_SECRET,
  '<env:IDEMPOTENCY_REDIS_URL>': 'rediss://:p%40ss@r-bp1example.redis.rds.aliyuncs.com:6379/0',
  '<env:ALLOWED_INSTANCE_IDS>': '38d2e8ed-04e9-4dac-83b5-a8e57642ef13, 5f7a2d18-3c9b-4e6a-8d1f-7b2e4c6a9d03',
};

// Per policy file: exactly these actions, nothing broader. test/system/ram-policies.test.ts checks
// which role gets which file and how far each grant reaches.
const POLICY_ACTIONS: Record<string, string[]> = {
  'function-role-policy.json': [
    'outboundbot:WithdrawScriptReview',
    'outboundbot:WithdrawScript',
    'outboundbot:DescribeScript',
    'log:PostLogStoreLogs',
    'mns:SendMessage',
  ],
  'cleanup-listing-policy.json': ['outboundbot:QueryScriptsByStatus', 'outboundbot:ListScripts'],
  'cleanup-fanout-policy.json': ['fc:InvokeFunction'],
  'fc-trust-policy.json': ['sts:AssumeRole'],
};

// The schema's triggerConfig is an anyOf that includes IOtsConfig ({type: object}), so it accepts
// any object; each trigger is therefore also checked against the definition for its own type.
const TRIGGER_CONFIG_DEFINITION: Record<string, string> = {
  http: 'IHttpTriggerConfig',
  timer: 'ITimerTriggerConfig',
  eventbridge: 'IEventBridge',
};

const ACCOUNT_ID = '1234567890123456';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Trigger {
  triggerName: string;
  triggerType: string;
  triggerConfig: Record<string, Json>;
}

interface Props {
  region: string;
  functionName: string;
  runtime: string;
  code: string;
  handler: string;
  memorySize: number;
  cpu: number;
  timeout: number;
  role: string;
  environmentVariables: Record<string, string>;
  triggers: Trigger[];
  vpcConfig?: { vpcId: string; vSwitchIds: string[]; securityGroupId: string };
  asyncInvokeConfig?: {
    asyncTask?: boolean;
    maxAsyncRetryAttempts?: number;
    maxAsyncEventAgeInSeconds?: number;
    destinationConfig?: { onFailure?: { destination?: string } };
  };
}

interface Policy {
  Version: string;
  Statement: { Effect: string; Action: string | string[]; Resource?: string | string[]; Principal?: { Service?: string[] }; Condition?: unknown }[];
}

// The subset of Serverless Devs 3.x magic variables s.yaml uses; anything else fails loudly.
function evaluate(expr: string, vars: Record<string, Json>): Json {
  const env = /^env\(\s*'?(\w+)'?\s*(?:,\s*'[^']*'\s*)?\)$/.exec(expr);
  if (env) return `<env:${env[1]}>`;
  if (/^config\(\s*'AccountID'\s*\)$/.test(expr)) return ACCOUNT_ID;
  const ref = /^vars\.([\w.]+)$/.exec(expr);
  if (ref?.[1]) {
    let value: Json | undefined = vars;
    for (const key of ref[1].split('.')) {
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[key] : undefined;
    }
    if (value === undefined) throw new Error(`\${${expr}} names no var`);
    return value;
  }
  throw new Error(`unsupported magic variable \${${expr}}`);
}

function resolve(node: Json, vars: Record<string, Json>): Json {
  if (typeof node === 'string') {
    // A value that is one expression keeps the referenced value's type, as s does.
    const whole = /^\$\{([^}]*)\}$/.exec(node);
    if (whole?.[1] !== undefined) return evaluate(whole[1], vars);
    return node.replace(/\$\{([^}]*)\}/g, (_, expr: string) => String(evaluate(expr, vars)));
  }
  if (Array.isArray(node)) return node.map((item) => resolve(item, vars));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolve(value, vars)]));
  }
  return node;
}

interface Action {
  run?: string;
  path?: string;
}

interface Spec {
  edition: string;
  name: string;
  access: string;
  vars: Record<string, Json>;
  actions?: Record<string, Action[]>;
  resources: Record<string, { component: string; props: Json; actions?: Record<string, Action[]> }>;
}

const sYaml = readFileSync(path.join(root, 's.yaml'), 'utf8');
const spec = parse(sYaml) as Spec;
// s resolves vars against the raw vars first, then the resources against the resolved vars.
const vars = resolve(spec.vars, spec.vars) as Record<string, Json>;
const rawProps = resolvedProps(sYaml);

/** Each resource's props as s resolves them from this text of s.yaml. */
function resolvedProps(text: string): Record<string, Json> {
  const parsed = parse(text) as Spec;
  const parsedVars = resolve(parsed.vars, parsed.vars) as Record<string, Json>;
  return Object.fromEntries(Object.entries(parsed.resources).map(([name, resource]) => [name, resolve(resource.props, parsedVars)]));
}

/** The line deploy/README.md says to uncomment in each function's props to join the store's VPC. */
const COMMENTED_VPC = /^( *)# vpcConfig: \$\{vars\.vpcConfig\}$/gm;
const withVpcUncommented = (text: string) => text.replace(COMMENTED_VPC, '$1vpcConfig: ${vars.vpcConfig}');
const props = rawProps as unknown as Record<string, Props>;
const names = Object.keys(spec.resources);

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema(JSON.parse(readFileSync(schemaPath, 'utf8')) as object, 'fc3');
const validateProps = ajv.getSchema('fc3') as ValidateFunction;
const triggerValidators = new Map<string, ValidateFunction>();
function validateTriggerConfig(type: string): ValidateFunction {
  const definition = TRIGGER_CONFIG_DEFINITION[type];
  if (!definition) throw new Error(`no schema definition for trigger type ${type}`);
  let validate = triggerValidators.get(definition);
  if (!validate) {
    validate = ajv.compile({ $ref: `fc3#/definitions/${definition}` });
    triggerValidators.set(definition, validate);
  }
  return validate;
}

function schemaErrors(validate: ValidateFunction, data: unknown): string | null {
  return validate(data) ? null : ajv.errorsText(validate.errors);
}

function trigger(name: string, type: string): Trigger {
  const found = props[name]?.triggers.find((t) => t.triggerType === type);
  if (!found) throw new Error(`${name} has no ${type} trigger`);
  return found;
}

function readPolicy(file: string): Policy {
  return JSON.parse(readFileSync(path.join(root, 'deploy/ram', file), 'utf8')) as Policy;
}

const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

describe('s.yaml', () => {
  it('is a Serverless Devs 3 project with a literal access alias', () => {
    expect(spec.edition).toBe('3.0.0');
    expect(spec.name).toBe('withdraw-script-review');
    // s reads access before resolving variables.
    expect(spec.access).not.toContain('${');
    expect([...names].sort()).toEqual(['cleanup', 'withdraw']);
    for (const name of names) expect(spec.resources[name]?.component).toBe('fc3');
  });

  it('deploys to cn-shanghai by default, the only OutboundBot region', () => {
    expect(vars.region).toBe('cn-shanghai');
    for (const name of names) expect(props[name]?.region).toBe('cn-shanghai');
  });

  it.each(names)('%s props satisfy the fc3 schema, triggers included', (name) => {
    expect(schemaErrors(validateProps, rawProps[name])).toBeNull();
    for (const t of props[name]?.triggers ?? []) {
      expect(schemaErrors(validateTriggerConfig(t.triggerType), t.triggerConfig), t.triggerName).toBeNull();
    }
  });

  it.each(names)('%s runs the esbuild bundle on nodejs20', (name) => {
    const p = props[name];
    expect(p?.runtime).toBe('nodejs20');
    expect(p?.handler).toBe('index.handler');
    expect(p?.code).toBe(`./dist/${name}`);
    expect(p?.role).toMatch(new RegExp(`^acs:ram::${ACCOUNT_ID}:role/[a-z0-9-]+$`));
  });

  it.each(names)('%s has an FC3-valid vCPU/memory pair', (name) => {
    const p = props[name] as Props;
    // FC3: vCPU a multiple of 0.05, memory a multiple of 64 MB, vCPU:GiB between 1:1 and 1:4.
    expect(Math.abs(p.cpu * 20 - Math.round(p.cpu * 20))).toBeLessThan(1e-9);
    expect(p.memorySize % 64).toBe(0);
    const gibPerVcpu = p.memorySize / 1024 / p.cpu;
    expect(gibPerVcpu).toBeGreaterThanOrEqual(1);
    expect(gibPerVcpu).toBeLessThanOrEqual(4);
  });

  it.each(names)('%s sets only documented environment variables, all as strings', (name) => {
    const env = props[name]?.environmentVariables ?? {};
    expect(Object.keys(env).length).toBeGreaterThan(0);
    for (const [key, value] of Object.entries(env)) {
      expect(DOCUMENTED_ENV[name], key).toContain(key);
      expect(typeof value, key).toBe('string');
    }
  });

  it('lists exactly the variables lib/runtime/config.ts reads, per function', () => {
    // Each function's schema names every variable it reads.
    const withdraw = configVariables.withdraw();
    const cleanup = configVariables.cleanup();
    expect(withdraw).toContain('IDEMPOTENCY_REDIS_URL');
    expect([...DOCUMENTED_ENV.withdraw!].sort()).toEqual(withdraw.sort());
    expect([...DOCUMENTED_ENV.cleanup!].sort()).toEqual(cleanup.sort());
  });

  it.each(names)('%s sets values its own configuration parser accepts, with the shell\'s secrets set or not', (name) => {
    const env = props[name]?.environmentVariables ?? {};
    const parseConfig = name === 'withdraw' ? parseWithdrawConfig : parseCleanupConfig;
    const fromShell = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, SHELL_VALUES[value] ?? value]));
    const unset = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value.startsWith('<env:') ? '' : value]));
    expect(parseConfig(fromShell)).toMatchObject({ IDEMPOTENCY_REDIS_URL: SHELL_VALUES['<env:IDEMPOTENCY_REDIS_URL>'], IDEMPOTENCY_TTL_SECONDS: 86_400, IDEMPOTENCY_TIMEOUT_MS: 1_000 });
    // Unset in the deploying shell, the store is per instance: an optional variable, not a broken deploy.
    expect(parseConfig(unset).IDEMPOTENCY_REDIS_URL).toBeUndefined();
    // The allow-list from the shell, comma- or space-separated; unset, any instance (with a warning at start).
    expect(parseConfig(fromShell).ALLOWED_INSTANCE_IDS).toEqual(['38d2e8ed-04e9-4dac-83b5-a8e57642ef13', '5f7a2d18-3c9b-4e6a-8d1f-7b2e4c6a9d03']);
    expect(parseConfig(unset).ALLOWED_INSTANCE_IDS).toEqual([]);
  });

  it.each(names)('%s leaves credentials to the role and account, region and endpoint to FC', (name) => {
    const env = props[name]?.environmentVariables ?? {};
    for (const key of LOCAL_ONLY_ENV) expect(Object.keys(env), key).not.toContain(key);
  });

  it('gives both functions the same value for every variable they share', () => {
    const withdrawEnv = props.withdraw?.environmentVariables ?? {};
    const cleanupEnv = props.cleanup?.environmentVariables ?? {};
    const shared = Object.keys(withdrawEnv).filter((key) => key in cleanupEnv);
    expect(shared.length).toBeGreaterThan(0);
    for (const key of shared) expect(cleanupEnv[key], key).toBe(withdrawEnv[key]);
  });

  it('takes secrets from the deploying shell, not from the file', () => {
    const env = props.withdraw?.environmentVariables ?? {};
    expect(env.WEBHOOK_SECRET).toBe('<env:WEBHOOK_SECRET>');
    expect(env.CALLBACK_SECRET).toBe('<env:CALLBACK_SECRET>');
    expect(sYaml).not.toMatch(/whsec_[A-Za-z0-9+/=]{8,}/);
  });

  it('takes the shared store (its URL carries the password) from the deploying shell, optional, for both functions', () => {
    for (const name of names) expect(props[name]?.environmentVariables.IDEMPOTENCY_REDIS_URL, name).toBe('<env:IDEMPOTENCY_REDIS_URL>');
    expect(sYaml.match(/\$\{env\('IDEMPOTENCY_REDIS_URL', ''\)\}/g)).toHaveLength(names.length);
    expect(sYaml).not.toMatch(/rediss?:\/\/[^\s'"]*@/);
  });

  it('takes the instance allow-list from the deploying shell, optional, the same for both functions', () => {
    for (const name of names) expect(props[name]?.environmentVariables.ALLOWED_INSTANCE_IDS, name).toBe('<env:ALLOWED_INSTANCE_IDS>');
    expect(spec.vars.allowedInstanceIds).toBe("${env('ALLOWED_INSTANCE_IDS', '')}");
  });

  it('runs the withdraw function in async task mode, so FC refuses a fan-out chunk whose task id it holds', () => {
    expect(props.withdraw?.asyncInvokeConfig?.asyncTask).toBe(true);
  });

  it('exposes the withdraw function on an anonymous HTTP trigger that accepts POST', () => {
    const config = trigger('withdraw', 'http').triggerConfig;
    expect(config.authType).toBe('anonymous');
    expect(config.methods).toContain('POST');
    expect(config.disableURLInternet).toBe(false);
  });

  it('feeds the withdraw function from the MNS request queue through EventBridge', () => {
    const config = trigger('withdraw', 'eventbridge').triggerConfig as {
      eventSourceConfig: { eventSourceType: string; eventSourceParameters: { sourceMNSParameters: { QueueName: string } } };
      runOptions: { mode: string; deadLetterQueue?: { Arn: string } };
    };
    expect(config.eventSourceConfig.eventSourceType).toBe('MNS');
    expect(config.eventSourceConfig.eventSourceParameters.sourceMNSParameters.QueueName).toBe(vars.requestQueueName);
    expect(config.runOptions.mode).toBe('event-streaming');
    expect(config.runOptions.deadLetterQueue?.Arn).toBe(
      `acs:mns:cn-shanghai:${ACCOUNT_ID}:/queues/${String(vars.failureQueueName)}`,
    );
  });

  it.each(names)('%s retries async invocations and parks failures in the failure queue', (name) => {
    const config = props[name]?.asyncInvokeConfig;
    expect(config?.maxAsyncRetryAttempts).toBeGreaterThan(0);
    expect(config?.maxAsyncEventAgeInSeconds).toBeGreaterThan(0);
    expect(config?.destinationConfig?.onFailure?.destination).toBe(
      `acs:mns:cn-shanghai:${ACCOUNT_ID}:/queues/${String(vars.failureQueueName)}/messages`,
    );
  });

  it('runs the cleanup nightly with a JSON payload naming the instance and the age', () => {
    const config = trigger('cleanup', 'timer').triggerConfig;
    expect(config.enable).toBe(true);
    // FC cron: optional CRON_TZ, then seconds minutes hours day-of-month month day-of-week.
    expect(config.cronExpression).toMatch(/^(CRON_TZ=[\w+-]+\/[\w+-]+ )?\S+( \S+){5}$/);
    const payload = JSON.parse(String(config.payload)) as Record<string, unknown>;
    expect(payload.InstanceId).toBe('<env:OUTBOUNDBOT_INSTANCE_ID>');
    expect(Number.isInteger(payload.OlderThanMinutes) && (payload.OlderThanMinutes as number) > 0).toBe(true);
    expect(Number.isInteger(payload.MaxWithdrawals) && (payload.MaxWithdrawals as number) > 0).toBe(true);
  });

  it('points the cleanup fan-out at the withdraw function', () => {
    expect(props.cleanup?.environmentVariables.WITHDRAW_FUNCTION_NAME).toBe(props.withdraw?.functionName);
    expect(props.cleanup?.timeout).toBeGreaterThan(props.withdraw?.timeout ?? Infinity);
  });
});

describe('the VPC of a Tair instance (deploy/README.md, section 6)', () => {
  const readme = readFileSync(path.join(root, 'deploy/README.md'), 'utf8');

  it('is not deployed as it stands: one commented line in each function, the very line the README quotes', () => {
    for (const name of names) expect(props[name]?.vpcConfig, name).toBeUndefined();
    const lines = [...sYaml.matchAll(COMMENTED_VPC)].map((m) => m[0]);
    expect(lines).toHaveLength(names.length);
    for (const line of lines) expect(readme).toContain(line);
    for (const variable of ['FUNCTION_VPC_ID', 'FUNCTION_VSWITCH_ID', 'FUNCTION_SECURITY_GROUP_ID']) {
      expect(sYaml, variable).toContain(`\${env('${variable}', '')}`);
      expect(readme, variable).toContain(`export ${variable}=`);
    }
  });

  it('uncommented as documented, gives both functions the vpcConfig the fc3 schema asks for, and changes nothing else', () => {
    const withVpc = resolvedProps(withVpcUncommented(sYaml));
    for (const name of names) {
      const { vpcConfig, ...rest } = withVpc[name] as { [key: string]: Json };
      expect(vpcConfig, name).toEqual({ vpcId: '<env:FUNCTION_VPC_ID>', vSwitchIds: ['<env:FUNCTION_VSWITCH_ID>'], securityGroupId: '<env:FUNCTION_SECURITY_GROUP_ID>' });
      expect(schemaErrors(validateProps, withVpc[name]), name).toBeNull();
      expect(rest, name).toEqual(rawProps[name]);
    }
  });
});

describe('the schema check bites', () => {
  const base = rawProps.withdraw as { [key: string]: Json };

  it('rejects an unknown runtime', () => {
    expect(schemaErrors(validateProps, { ...base, runtime: 'nodejs99' })).toMatch(/runtime/);
  });

  it('rejects a built-in runtime without a handler', () => {
    const withoutHandler = Object.fromEntries(Object.entries(base).filter(([key]) => key !== 'handler'));
    expect(schemaErrors(validateProps, withoutHandler)).toMatch(/handler/);
  });

  it('rejects an HTTP trigger without methods', () => {
    const { methods: _, ...config } = trigger('withdraw', 'http').triggerConfig;
    expect(schemaErrors(validateTriggerConfig('http'), config)).toMatch(/methods/);
  });

  it('rejects an asyncTask that is not a boolean, and a vpcConfig without its vSwitches', () => {
    const asyncInvokeConfig = base.asyncInvokeConfig as { [key: string]: Json };
    expect(schemaErrors(validateProps, { ...base, asyncInvokeConfig: { ...asyncInvokeConfig, asyncTask: 'yes' } })).toMatch(/asyncTask/);
    expect(schemaErrors(validateProps, { ...base, vpcConfig: { vpcId: 'vpc-1', securityGroupId: 'sg-1' } })).toMatch(/vSwitchIds/);
  });

  it('rejects a timer without cronExpression', () => {
    const { cronExpression: _, ...config } = trigger('cleanup', 'timer').triggerConfig;
    expect(schemaErrors(validateTriggerConfig('timer'), config)).toMatch(/cronExpression/);
  });

  it('the resolver refuses unknown magic variables', () => {
    expect(() => resolve('${vars.nope}', vars)).toThrow(/names no var/);
    expect(() => resolve('${file(./x)}', vars)).toThrow(/unsupported/);
  });
});

describe('RAM policies', () => {
  it.each(Object.entries(POLICY_ACTIONS))('%s grants exactly its actions, none by wildcard', (file, actions) => {
    const policy = readPolicy(file);
    expect(policy.Version).toBe('1');
    const granted = policy.Statement.flatMap((s) => asList(s.Action));
    expect([...granted].sort()).toEqual([...actions].sort());
    for (const statement of policy.Statement) expect(statement.Effect).toBe('Allow');
    for (const action of granted) expect(action).not.toContain('*');
  });

  it('keeps Resource "*" to OutboundBot, whose RAM support is action-level only', () => {
    for (const file of ['function-role-policy.json', 'cleanup-listing-policy.json', 'cleanup-fanout-policy.json']) {
      for (const statement of readPolicy(file).Statement) {
        if (asList(statement.Resource).includes('*')) {
          for (const action of asList(statement.Action)) expect(action, file).toMatch(/^outboundbot:/);
        }
      }
    }
  });

  it('scopes the destination and fan-out grants to the resources s.yaml names', () => {
    const mns = readPolicy('function-role-policy.json').Statement.find((s) => asList(s.Action).includes('mns:SendMessage'));
    expect(asList(mns?.Resource)).toEqual([
      `acs:mns:${String(vars.region)}:*:/queues/${String(vars.failureQueueName)}/messages`,
    ]);
    const [invoke] = readPolicy('cleanup-fanout-policy.json').Statement;
    expect(asList(invoke?.Resource)).toEqual([
      `acs:fc:${String(vars.region)}:*:functions/${String(vars.withdrawFunctionName)}`,
    ]);
  });

  it('lets only Function Compute assume the roles', () => {
    const [statement] = readPolicy('fc-trust-policy.json').Statement;
    expect(statement?.Principal?.Service).toEqual(['fc.aliyuncs.com']);
  });
});

describe('bundles', () => {
  const notWritten = (name: string) => !existsSync(path.join(root, 'functions', name, 'index.ts'));
  let built: string[] = [];

  beforeAll(async () => {
    const build = (await import(pathToFileURL(path.join(root, 'scripts/build.mjs')).href)) as {
      FUNCTIONS: string[];
      buildFunctions: () => Promise<unknown>;
    };
    built = build.FUNCTIONS;
    if (built.length > 0) await build.buildFunctions();
  }, 120_000);

  it('s.yaml deploys every function the build bundles', () => {
    for (const name of built) expect(names).toContain(name);
  });

  for (const name of names) {
    const skip = notWritten(name);
    it.skipIf(skip)(
      `${name}: <code>/index.js exists and exports handler${skip ? ` (skipped: functions/${name}/index.ts not written yet)` : ''}`,
      () => {
        const bundle = path.join(root, props[name]?.code ?? '', 'index.js');
        expect(existsSync(bundle)).toBe(true);
        const mod = createRequire(import.meta.url)(bundle) as { handler?: unknown };
        expect(typeof mod.handler).toBe('function');
      },
    );
  }
});

describe('the pre-deploy build', () => {
  it('is declared once, as a global action, so one `s deploy` builds once for both functions', () => {
    expect(spec.actions?.['pre-deploy']).toEqual([{ run: 'npm run build', path: './' }]);
    for (const name of names) expect(spec.resources[name]?.actions, name).toBeUndefined();
  });

  it('tells you to run `npm ci` (no stack trace) when esbuild is not installed', async () => {
    // The build script alone in a folder with no node_modules above it: a fresh clone before `npm ci`.
    const clone = mkdtempSync(path.join(tmpdir(), 'fresh-clone-'));
    try {
      mkdirSync(path.join(clone, 'scripts'));
      cpSync(path.join(root, 'scripts/build.mjs'), path.join(clone, 'scripts/build.mjs'));
      const result = await shell(`cd ${clone} && node scripts/build.mjs`);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^build: esbuild is not installed in .*: run `npm ci` there first/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
  });
});

/**
 * Stands in for the fc3 component, which s downloads from the Serverless Devs registry on first
 * use (unreachable from tests): s loads a component from its cache when a `.s.lock` is there. It
 * records what s hands each resource and touches no cloud.
 */
const FC3_STAND_IN = `
const { appendFileSync } = require('node:fs');
module.exports = class Fc3StandIn {
  async deploy(inputs) {
    appendFileSync(process.env.FC3_STAND_IN_LOG, JSON.stringify({ resource: inputs.resource.name, args: inputs.args, props: inputs.props }) + '\\n');
    return {};
  }
};
`;

describe('Serverless Devs (the installed `s`, offline, in a temporary HOME)', () => {
  const s = path.join(root, 'node_modules/.bin/s');
  let home: string;
  let env: NodeJS.ProcessEnv;
  /** The values s.yaml reads with env(), set to what this file's resolver writes for them, so both resolutions compare equal. */
  const deployEnv = {
    OUTBOUNDBOT_INSTANCE_ID: '<env:OUTBOUNDBOT_INSTANCE_ID>',
    WEBHOOK_SECRET: '<env:WEBHOOK_SECRET>',
    CALLBACK_SECRET: '<env:CALLBACK_SECRET>',
    IDEMPOTENCY_REDIS_URL: '<env:IDEMPOTENCY_REDIS_URL>',
    ALLOWED_INSTANCE_IDS: '<env:ALLOWED_INSTANCE_IDS>',
  };

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 's-home-'));
    // Never the developer's ~/.s: HOME is where s keeps its access keys, components and logs.
    env = { HOME: home, FC3_STAND_IN_LOG: path.join(home, 'fc3-stand-in.log') };
    const added = await shell(`${s} config add --AccessKeyID LTAI5tDummyDeployKey --AccessKeySecret dummy-secret --AccountID ${ACCOUNT_ID} -a default -f`, env);
    expect(added.code, added.stderr + added.stdout).toBe(0);
    const component = path.join(home, '.s/components/devsapp.cn/v3/fc3');
    mkdirSync(component, { recursive: true });
    writeFileSync(path.join(component, 'index.js'), FC3_STAND_IN);
    writeFileSync(path.join(component, '.s.lock'), JSON.stringify({ version: '0.0.0-stand-in' }));
  }, 60_000);

  afterAll(() => {
    // s leaves a detached update check behind that may still be writing under HOME/.s: retried, not failed.
    removeSHome(home);
  });

  function standInCalls(): Array<{ resource: string; args: string[]; props: Json }> {
    const log = env.FC3_STAND_IN_LOG!;
    const lines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    rmSync(log, { force: true });
    return lines.map((line) => JSON.parse(line) as { resource: string; args: string[]; props: Json });
  }

  /** `npm run build` announces itself once per run; nothing else prints this line. */
  const builds = (output: string) => output.match(/^> node scripts\/build\.mjs$/gm)?.length ?? 0;

  it('`s preview` renders s.yaml offline, with the account id from `s config add`, as this file resolves it', async () => {
    const preview = await shell(`${s} preview -o json --silent`, { ...env, ...deployEnv });
    expect(preview.code, preview.stderr).toBe(0);
    const rendered = JSON.parse(preview.stdout) as { resources: Record<string, { props: Json }> };
    for (const name of names) expect(rendered.resources[name]?.props, name).toEqual(rawProps[name]);
    expect(preview.stdout).toContain(`acs:ram::${ACCOUNT_ID}:role/`);
  });

  it('`s preview` renders without the optional variables: no shared store, no VPC, any instance', async () => {
    const { IDEMPOTENCY_REDIS_URL: _, CALLBACK_SECRET: __, ALLOWED_INSTANCE_IDS: ___, ...required } = deployEnv;
    const preview = await shell(`${s} preview -o json --silent`, { ...env, ...required });
    expect(preview.code, preview.stderr).toBe(0);
    const rendered = JSON.parse(preview.stdout) as { resources: Record<string, { props: Props }> };
    for (const name of names) {
      expect(rendered.resources[name]?.props.environmentVariables.IDEMPOTENCY_REDIS_URL, name).toBe('');
      expect(rendered.resources[name]?.props.environmentVariables.ALLOWED_INSTANCE_IDS, name).toBe('');
      expect(rendered.resources[name]?.props.vpcConfig, name).toBeUndefined();
    }
  });

  it('`s preview` renders the documented VPC edit with the shell\'s ids into both functions', async () => {
    const file = path.join(home, 'vpc', 's.yaml');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, withVpcUncommented(sYaml));
    const ids = { FUNCTION_VPC_ID: 'vpc-uf6example', FUNCTION_VSWITCH_ID: 'vsw-uf6example', FUNCTION_SECURITY_GROUP_ID: 'sg-uf6example' };
    const preview = await shell(`${s} preview -t ${file} -o json --silent`, { ...env, ...deployEnv, ...ids });
    expect(preview.code, preview.stderr).toBe(0);
    const rendered = JSON.parse(preview.stdout) as { resources: Record<string, { props: Props }> };
    for (const name of names) {
      expect(rendered.resources[name]?.props.vpcConfig, name).toEqual({ vpcId: ids.FUNCTION_VPC_ID, vSwitchIds: [ids.FUNCTION_VSWITCH_ID], securityGroupId: ids.FUNCTION_SECURITY_GROUP_ID });
    }
  });

  it('`s preview` refuses to render without WEBHOOK_SECRET, so no deploy ships an open webhook', async () => {
    const { WEBHOOK_SECRET: _, ...withoutSecret } = deployEnv;
    const preview = await shell(`${s} preview -o json --silent`, { ...env, ...withoutSecret });
    expect(preview.code).not.toBe(0);
    expect(preview.stdout + preview.stderr).toMatch(/env\('WEBHOOK_SECRET'\) not found/);
  });

  it('`npm run preview` renders s.yaml with the shell\'s secrets as *** on the terminal and in s\'s log of the run (issue #22.7)', async () => {
    const secrets = { WEBHOOK_SECRET: SAMPLE_SECRET, CALLBACK_SECRET: `whsec_${Buffer.alloc(32, 9).toString('base64')}`, IDEMPOTENCY_REDIS_URL: 'rediss://:p%40ss-w0rd-long@r-bp1example.redis.rds.aliyuncs.com:6379/0' };
    const shellEnv = { ...env, OUTBOUNDBOT_INSTANCE_ID: '38d2e8ed-04e9-4dac-83b5-a8e57642ef13', ...secrets };
    // Plain `s preview` shows them: what the wrapper is for.
    const plain = await shell(`${s} preview`, shellEnv);
    expect(plain.stdout).toContain(SAMPLE_SECRET);
    const preview = await shell('npm run -s preview', shellEnv, 60_000);
    expect(preview.code, preview.stderr).toBe(0);
    // s colours the keys: `WEBHOOK_SECRET: ` is followed by an escape code, then the value.
    expect(preview.stdout).toMatch(/WEBHOOK_SECRET: (\x1b\[\d+m)?\s*\*\*\*\n/);
    expect(preview.stdout).toContain('withdraw-script-review-withdraw');
    for (const part of [...Object.values(secrets), 'p%40ss-w0rd-long', 'p@ss-w0rd-long']) expect(preview.stdout + preview.stderr).not.toContain(part);
    const logs = readdirSync(path.join(home, '.s/logs')).filter((name) => name.startsWith('npm-preview-'));
    expect(logs).toHaveLength(1);
    for (const file of readdirSync(path.join(home, '.s/logs', logs[0]!))) {
      const text = readFileSync(path.join(home, '.s/logs', logs[0]!, file), 'utf8');
      for (const value of Object.values(secrets)) expect(text, file).not.toContain(value);
    }
  }, 60_000);

  it('`s deploy` runs the one pre-deploy build, then hands both functions their props', async () => {
    const deploy = await shell(`${s} deploy`, { ...env, ...deployEnv }, 120_000);
    expect(deploy.code, deploy.stderr + deploy.stdout).toBe(0);
    expect(builds(deploy.stdout)).toBe(1);
    const calls = standInCalls();
    expect(calls.map((c) => c.resource).sort()).toEqual([...names].sort());
    for (const call of calls) expect(call.props).toEqual(rawProps[call.resource]);
  }, 120_000);

  it('`npm run deploy` without a secret, an instance or an account: one line each saying what to do, nothing built (issue #22.7)', async () => {
    const bare = await shell('npm run -s deploy', { HOME: mkdtempSync(path.join(tmpdir(), 's-bare-')) }, 60_000);
    expect(bare.code).not.toBe(0);
    expect(bare.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^npm run deploy: WEBHOOK_SECRET is not set in this shell: export WEBHOOK_SECRET=/),
      expect.stringMatching(/^npm run deploy: OUTBOUNDBOT_INSTANCE_ID is not set in this shell/),
      expect.stringMatching(/^npm run deploy: Serverless Devs has no access with an AccountID .*npx s config add/),
    ]);
    expect(builds(bare.stdout)).toBe(0);
  }, 60_000);

  it('`npm run deploy` builds once, then runs `s deploy` with the build action skipped', async () => {
    const deploy = await shell('npm run deploy', { ...env, ...deployEnv }, 120_000);
    expect(deploy.code, deploy.stderr + deploy.stdout).toBe(0);
    expect(builds(deploy.stdout)).toBe(1);
    const calls = standInCalls();
    expect(calls.map((c) => c.resource).sort()).toEqual([...names].sort());
    for (const call of calls) expect(call.args).toContain('--skip-actions');
  }, 120_000);
});

describe('`npm run deploy` when s cannot fetch its fc3 component (issue #22.7)', () => {
  const s = path.join(root, 'node_modules/.bin/s');
  let home: string;
  const deployEnv = { OUTBOUNDBOT_INSTANCE_ID: '38d2e8ed-04e9-4dac-83b5-a8e57642ef13', WEBHOOK_SECRET: SAMPLE_SECRET };

  beforeAll(async () => {
    // No component in this HOME's cache: s must download fc3 from its registry first.
    home = mkdtempSync(path.join(tmpdir(), 's-offline-'));
    const added = await shell(`${s} config add --AccessKeyID LTAI5tDummyDeployKey --AccessKeySecret dummy-secret --AccountID ${ACCOUNT_ID} -a default -f`, { HOME: home });
    expect(added.code, added.stderr + added.stdout).toBe(0);
  }, 60_000);

  afterAll(() => {
    removeSHome(home);
  });

  /** A loopback port nothing listens on. */
  async function closedPort(): Promise<number> {
    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it.each([
    ['refused', async () => `http://127.0.0.1:${await closedPort()}/v3`, /\(ECONNREFUSED 127\.0\.0\.1:\d+\)/],
    ['not found', async () => 'http://devs-registry.invalid/v3', /\((ENOTFOUND|EAI_AGAIN) devs-registry\.invalid\)/],
  ])('a registry %s: s\'s block ends with one line saying what failed and what to do', async (_, registryUrl, code) => {
    const registry = await registryUrl();
    const set = await shell(`${s} set registry ${registry}`, { HOME: home });
    expect(set.code, set.stderr + set.stdout).toBe(0);
    const deploy = await shell('node scripts/s-deploy.mjs --skip-actions', { HOME: home, ...deployEnv }, 60_000);
    expect(deploy.code).not.toBe(0);
    const last = deploy.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(new RegExp(`^npm run deploy: s could not download its fc3 component from the registry ${registry.replace(/[.]/g, '\\.')} `));
    expect(last).toMatch(code);
    expect(last).toContain(`${home}/.s/set-config.yml`);
    expect(last).toContain(`cached in ${home}/.s/components`);
    expect(deploy.stderr.trim().split('\n')).toHaveLength(1);
    expect(deploy.stdout + deploy.stderr).not.toContain(SAMPLE_SECRET);
  }, 60_000);

  it('with the component cached, a network failure is said as one, not as a download', async () => {
    const { explain } = (await import(pathToFileURL(path.join(root, 'scripts/s-deploy.mjs')).href)) as { explain: (messages: string[], home: string) => string | undefined };
    const cached = mkdtempSync(path.join(tmpdir(), 's-cached-'));
    try {
      mkdirSync(path.join(cached, 'components/devsapp.cn/v3/fc3'), { recursive: true });
      writeFileSync(path.join(cached, 'components/devsapp.cn/v3/fc3/.s.lock'), '{}');
      expect(explain(['connect ETIMEDOUT 47.100.1.1:443'], cached)).toMatch(/^s lost the network while deploying \(ETIMEDOUT 47\.100\.1\.1:443\)/);
      expect(explain(['config(\'AccountID\') not found'], cached)).toBeUndefined();
    } finally {
      rmSync(cached, { recursive: true, force: true });
    }
  });
});

describe('deployer RAM policy (deploy/ram/deployer-policy.json)', () => {
  const policy = readPolicy('deployer-policy.json');
  const statementsWith = (action: string) => policy.Statement.filter((st) => asList(st.Action).includes(action));
  const functionNames = names.map((name) => String(props[name]?.functionName));

  it('is a valid RAM policy document that only allows', () => {
    expect(policy.Version).toBe('1');
    expect(policy.Statement.length).toBeGreaterThan(0);
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe('Allow');
      expect(asList(statement.Action).length).toBeGreaterThan(0);
    }
  });

  it('lets the deployer pass exactly the two function roles s.yaml names, to nothing else', () => {
    const roles = names.map((name) => String(props[name]?.role).replace(`::${ACCOUNT_ID}:`, '::*:'));
    expect(statementsWith('ram:PassRole').flatMap((st) => asList(st.Resource)).sort()).toEqual([...roles].sort());
  });

  it('scopes fc:* to the functions s.yaml deploys', () => {
    const resources = statementsWith('fc:*').flatMap((st) => asList(st.Resource));
    expect(resources.sort()).toEqual(functionNames.flatMap((fn) => [`acs:fc:${String(vars.region)}:*:functions/${fn}`, `acs:fc:${String(vars.region)}:*:functions/${fn}/*`]).sort());
  });

  it('reads exactly the two queues s.yaml names, and touches only the log project logConfig: auto creates', () => {
    const queues = [vars.requestQueueName, vars.failureQueueName].map((q) => `acs:mns:${String(vars.region)}:*:/queues/${String(q)}`);
    expect(statementsWith('mns:GetQueueAttributes').flatMap((st) => asList(st.Resource)).sort()).toEqual(queues.sort());
    const logStatements = policy.Statement.filter((st) => asList(st.Action).some((action) => action.startsWith('log:')));
    expect(logStatements.length).toBeGreaterThan(0);
    for (const resource of logStatements.flatMap((st) => asList(st.Resource))) {
      expect(resource).toMatch(new RegExp(`^acs:log:${String(vars.region)}:\\*:project/serverless-${String(vars.region)}-\\*(/logstore/default-logs)?$`));
    }
  });

  it('grants no service-wide wildcard on every resource, and no RAM write beyond PassRole and EventBridge service roles', () => {
    for (const statement of policy.Statement) {
      const everywhere = asList(statement.Resource).includes('*');
      for (const action of asList(statement.Action)) {
        if (everywhere) expect(action, JSON.stringify(statement)).not.toMatch(/(^|:)\*$/);
        if (action.startsWith('ram:')) expect(['ram:PassRole', 'ram:GetRole', 'ram:CreateServiceLinkedRole']).toContain(action);
      }
    }
    const [slr] = statementsWith('ram:CreateServiceLinkedRole');
    expect(JSON.stringify(slr?.Condition)).toMatch(/eventbridge\.aliyuncs\.com/);
  });
});

describe('the deploy docs', () => {
  /** Repository files a page names (`deploy/ram/x.json`, `scripts/build.mjs`…), not ARN parts such as `:functions/name`. */
  function namedPaths(text: string): string[] {
    return [...text.matchAll(/(?<![\w:/.-])(?:deploy|scripts|test|local|lib|functions|emulator|docs|bench|dist|build)\/[\w./-]*\.\w+/g)].map((m) => m[0]);
  }

  function section(markdown: string, heading: string): string {
    const start = markdown.indexOf(`\n${heading}\n`);
    expect(start, heading).toBeGreaterThanOrEqual(0);
    const next = markdown.indexOf('\n## ', start + heading.length + 2);
    return markdown.slice(start, next === -1 ? undefined : next);
  }

  const operations = readFileSync(path.join(root, 'docs/OPERATIONS.md'), 'utf8');
  const pages: Record<string, string> = {
    'deploy/README.md': readFileSync(path.join(root, 'deploy/README.md'), 'utf8'),
    's.yaml': readFileSync(path.join(root, 's.yaml'), 'utf8'),
    'docs/OPERATIONS.md (Deploying with Serverless Devs)': section(operations, '## Deploying with Serverless Devs'),
    'docs/OPERATIONS.md (RAM policy)': section(operations, '## RAM policy'),
  };
  // Built by `npm run build` / `npm start`, not committed.
  const generated = (p: string) => /^(dist|build)\//.test(p);

  it.each(Object.keys(pages))('every repository file %s names exists', (page) => {
    const missing = namedPaths(pages[page]!).filter((p) => !generated(p) && !existsSync(path.join(root, p)));
    expect(missing).toEqual([]);
  });

  it('deploy/README.md creates both MNS queues s.yaml names, and every policy in deploy/ram/', () => {
    const doc = pages['deploy/README.md']!;
    for (const queue of [vars.requestQueueName, vars.failureQueueName]) {
      expect(doc).toMatch(new RegExp(`aliyun mns-open CreateQueue --region ${String(vars.region)} --QueueName ${String(queue)}`));
    }
    const files = readdirSync(path.join(root, 'deploy/ram')).filter((file) => file.endsWith('.json'));
    expect(files).toEqual(expect.arrayContaining(['function-role-policy.json', 'cleanup-listing-policy.json', 'cleanup-fanout-policy.json', 'fc-trust-policy.json', 'deployer-policy.json']));
    for (const file of files) expect(doc, file).toContain(`deploy/ram/${file}`);
  });

  it('the operator\'s guide configures s with the AccountID s.yaml needs', () => {
    expect(pages['docs/OPERATIONS.md (Deploying with Serverless Devs)']).toMatch(/npx s config add --AccessKeyID \S+ --AccessKeySecret \S+ --AccountID \S+/);
  });

  it('flags a missing file (the check itself can fail)', () => {
    expect(namedPaths('see `deploy/ram/no-such-policy.json`').filter((p) => !existsSync(path.join(root, p)))).toEqual(['deploy/ram/no-such-policy.json']);
  });
});
