// Least privilege of the RAM policies in deploy/ram/, checked by what they allow rather than by
// their text: each role's policies (as deploy/README.md attaches them) and the deployer's policy
// are evaluated the way RAM matches Action and Resource patterns (`*` any run of characters, `?`
// one), against the resources s.yaml deploys and against someone else's resources next to them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ACCOUNT_ID = '1234567890123456';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
}
interface Policy {
  Version: string;
  Statement: Statement[];
}

const asList = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const readPolicy = (file: string): Policy => JSON.parse(readFileSync(path.join(root, 'deploy/ram', file), 'utf8')) as Policy;
const policyFiles = readdirSync(path.join(root, 'deploy/ram')).filter((file) => file.endsWith('.json'));

/** RAM's wildcard match: `*` any run of characters, `?` exactly one. Actions compare case-insensitively. */
function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

/** The Allow statements of these policies that grant `action` on `resource` (conditions left aside). */
function grantsOf(policies: Policy[], action: string, resource: string): Statement[] {
  return policies
    .flatMap((policy) => policy.Statement)
    .filter((st) => st.Effect === 'Allow')
    .filter((st) => asList(st.Action).some((pattern) => wildcard(pattern, action, true)))
    .filter((st) => asList(st.Resource).some((pattern) => wildcard(pattern, resource)));
}
const allows = (policies: Policy[], action: string, resource: string) => grantsOf(policies, action, resource).length > 0;

// The names s.yaml deploys (its vars are literals for these).
const vars = (parse(readFileSync(path.join(root, 's.yaml'), 'utf8')) as { vars: Record<string, string> }).vars;
const region = vars.region!;
const withdrawFn = vars.withdrawFunctionName!;
const cleanupFn = vars.cleanupFunctionName!;
const fnArn = (name: string) => `acs:fc:${region}:${ACCOUNT_ID}:functions/${name}`;
const OTHER_FN = fnArn('someone-elses-function');
// What fc3's `logConfig: auto` creates: project serverless-<region>-<id made from the account id>, logstore default-logs.
const AUTO_PROJECT = `serverless-${region}-0c3fe2b6-7a1d-5e4f-9b8a-2d6c4e1f3a5b`;
const logstoreArn = (project: string, logstore: string) => `acs:log:${region}:${ACCOUNT_ID}:project/${project}/logstore/${logstore}`;
const OWN_LOGSTORE = logstoreArn(AUTO_PROJECT, 'default-logs');

/** Which policy files deploy/README.md attaches to which role: its CreatePolicy and AttachPolicyToRole commands, `for role in …` loops expanded. */
function attachedByReadme(): Record<string, string[]> {
  const doc = readFileSync(path.join(root, 'deploy/README.md'), 'utf8');
  const shellText = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\s*\\\n\s*/g, ' ')).join('\n');
  const fileOf = new Map([...shellText.matchAll(/aliyun ram CreatePolicy --PolicyName (\S+) --PolicyDocument "\$\(cat deploy\/ram\/([\w.-]+)\)"/g)].map((m) => [m[1]!, m[2]!]));
  const expanded = shellText.replace(/for role in ([^;]+); do([\s\S]*?)done/g, (_, roles: string, body: string) =>
    roles.trim().split(/\s+/).map((role) => body.replace(/"\$role"/g, role)).join('\n'),
  );
  const attached: Record<string, string[]> = {};
  for (const m of expanded.matchAll(/aliyun ram AttachPolicyToRole --PolicyType Custom --PolicyName (\S+) --RoleName (\S+)/g)) {
    const file = fileOf.get(m[1]!);
    expect(file, `policy ${m[1]} is created from a deploy/ram file`).toBeDefined();
    (attached[m[2]!] ??= []).push(file!);
  }
  return attached;
}

const attached = attachedByReadme();
const withdrawRole = `withdraw-script-review-withdraw`;
const cleanupRole = `withdraw-script-review-cleanup`;
const rolePolicies = (role: string) => (attached[role] ?? []).map(readPolicy);
const deployer = [readPolicy('deployer-policy.json')];

describe('deploy/README.md attaches the policies as split', () => {
  it('gives the withdraw role only the shared function policy, the cleanup role that plus listing and fan-out', () => {
    expect(attached[withdrawRole]).toEqual(['function-role-policy.json']);
    expect([...(attached[cleanupRole] ?? [])].sort()).toEqual(['cleanup-fanout-policy.json', 'cleanup-listing-policy.json', 'function-role-policy.json']);
  });

  it('creates every policy file in deploy/ram/ (roles and deployer alike)', () => {
    const doc = readFileSync(path.join(root, 'deploy/README.md'), 'utf8');
    for (const file of policyFiles) expect(doc, file).toContain(`$(cat deploy/ram/${file})`);
  });
});

describe('the function roles', () => {
  it('let the withdraw role withdraw and read one script, and neither list nor query scripts', () => {
    const policies = rolePolicies(withdrawRole);
    for (const action of ['outboundbot:WithdrawScriptReview', 'outboundbot:WithdrawScript', 'outboundbot:DescribeScript']) {
      expect(allows(policies, action, '*'), action).toBe(true);
    }
    for (const action of ['outboundbot:ListScripts', 'outboundbot:QueryScriptsByStatus']) {
      expect(allows(policies, action, '*'), action).toBe(false);
      expect(allows(policies, action, `acs:outboundbot:${region}:${ACCOUNT_ID}:*`), action).toBe(false);
    }
  });

  it('let the withdraw role invoke no function, the cleanup role only the withdraw function', () => {
    for (const fn of [withdrawFn, cleanupFn, 'someone-elses-function']) {
      expect(allows(rolePolicies(withdrawRole), 'fc:InvokeFunction', fnArn(fn)), fn).toBe(false);
      expect(allows(rolePolicies(cleanupRole), 'fc:InvokeFunction', fnArn(fn)), fn).toBe(fn === withdrawFn);
    }
  });

  it('let the cleanup role list (QueryScriptsByStatus, ListScripts as its fallback) and withdraw what it lists', () => {
    const policies = rolePolicies(cleanupRole);
    for (const action of ['outboundbot:QueryScriptsByStatus', 'outboundbot:ListScripts', 'outboundbot:WithdrawScriptReview', 'outboundbot:WithdrawScript', 'outboundbot:DescribeScript']) {
      expect(allows(policies, action, '*'), action).toBe(true);
    }
  });

  it('grant the withdrawal under both names, WithdrawScriptReview (the API) and WithdrawScript (deploy/README.md says why)', () => {
    const actions = readPolicy('function-role-policy.json').Statement.flatMap((st) => asList(st.Action));
    expect(actions).toEqual(expect.arrayContaining(['outboundbot:WithdrawScriptReview', 'outboundbot:WithdrawScript']));
    expect(readFileSync(path.join(root, 'deploy/README.md'), 'utf8')).toMatch(/`outboundbot:WithdrawScript`[\s\S]{0,600}WithdrawScriptReview|WithdrawScriptReview[\s\S]{0,600}`outboundbot:WithdrawScript`/);
  });

  it.each([withdrawRole, cleanupRole])('%s writes logs to the logstore logConfig: auto creates, and nowhere else', (role) => {
    const policies = rolePolicies(role);
    expect(allows(policies, 'log:PostLogStoreLogs', OWN_LOGSTORE)).toBe(true);
    expect(allows(policies, 'log:PostLogStoreLogs', logstoreArn('another-teams-project', 'default-logs'))).toBe(false);
    expect(allows(policies, 'log:PostLogStoreLogs', logstoreArn(AUTO_PROJECT, 'audit-logs'))).toBe(false);
    expect(allows(policies, 'log:PostLogStoreLogs', logstoreArn(`serverless-cn-hangzhou-0c3fe2b6`, 'default-logs'))).toBe(false);
  });

  it.each([withdrawRole, cleanupRole])('%s sends only to the failure queue', (role) => {
    const policies = rolePolicies(role);
    expect(allows(policies, 'mns:SendMessage', `acs:mns:${region}:${ACCOUNT_ID}:/queues/${vars.failureQueueName}/messages`)).toBe(true);
    expect(allows(policies, 'mns:SendMessage', `acs:mns:${region}:${ACCOUNT_ID}:/queues/${vars.requestQueueName}/messages`)).toBe(false);
  });
});

describe('the deployer policy', () => {
  // Calls that return a function's configuration, environment variables (its secrets) included, or its code.
  const READS_A_FUNCTION = ['fc:GetFunction', 'fc:ListFunctions', 'fc:GetFunctionCode', 'fc:ListFunctionVersions'];
  const ASYNC_CONFIG = ['fc:PutFunctionAsyncInvokeConfig', 'fc:DeleteFunctionAsyncInvokeConfig', 'fc:GetFunctionAsyncInvokeConfig', 'fc:ListAsyncInvokeConfigs'];

  it('grants fc:Get* and fc:List* on no resource beyond the two functions, since they read environment secrets', () => {
    for (const statement of deployer[0]!.Statement) {
      const actions = asList(statement.Action);
      if (!actions.some((a) => /^fc:(\*|Get|List)/i.test(a))) continue;
      for (const pattern of ['fc:*', 'fc:Get*', 'fc:List*']) {
        if (!actions.some((a) => a.toLowerCase() === pattern.toLowerCase())) continue;
        for (const resource of asList(statement.Resource)) {
          expect(resource, JSON.stringify(statement)).toMatch(new RegExp(`^acs:fc:${region}:\\*:functions/(${withdrawFn}|${cleanupFn})(/\\*)?$`));
        }
      }
    }
    // ListFunctions answers with whole Function objects (environmentVariables included) for the
    // region, and fc3 calls it only for `s list`: not granted at all.
    for (const action of READS_A_FUNCTION) {
      if (action !== 'fc:ListFunctions') expect(allows(deployer, action, fnArn(withdrawFn)), action).toBe(true);
      expect(allows(deployer, action, OTHER_FN), action).toBe(false);
      expect(allows(deployer, action, '*'), action).toBe(false);
      expect(allows(deployer, action, `acs:fc:${region}:${ACCOUNT_ID}:functions/*`), action).toBe(false);
    }
  });

  it('grants the async-invocation configuration calls on the two functions, on no Resource "*"', () => {
    for (const action of ASYNC_CONFIG) {
      for (const statement of grantsOf(deployer, action, '*')) expect.fail(`${action} on "*": ${JSON.stringify(statement)}`);
      expect(allows(deployer, action, fnArn(withdrawFn)), action).toBe(true);
      expect(allows(deployer, action, fnArn(cleanupFn)), action).toBe(true);
      expect(allows(deployer, action, OTHER_FN), action).toBe(false);
    }
  });

  it('keeps FC grants on "*" to the one call FC does not scope to a function (the code-upload token)', () => {
    const onEverything = deployer[0]!.Statement.filter((st) => asList(st.Resource).includes('*')).flatMap((st) => asList(st.Action)).filter((a) => a.startsWith('fc:'));
    expect(onEverything).toEqual(['fc:GetTempBucketToken']);
  });

  it('uses named log actions, only on the project and logstore logConfig: auto creates, and deletes nothing', () => {
    for (const statement of deployer[0]!.Statement) {
      for (const action of asList(statement.Action).filter((a) => a.startsWith('log:'))) {
        expect(action).not.toContain('*');
        expect(action).not.toMatch(/^log:(Delete|Update|Put|Post)/);
      }
    }
    expect(allows(deployer, 'log:GetLogStoreLogs', OWN_LOGSTORE)).toBe(true);
    expect(allows(deployer, 'log:CreateProject', `acs:log:${region}:${ACCOUNT_ID}:project/${AUTO_PROJECT}`)).toBe(true);
    for (const action of ['log:GetLogStoreLogs', 'log:CreateLogStore', 'log:CreateIndex']) {
      expect(allows(deployer, action, logstoreArn('another-teams-project', 'default-logs')), action).toBe(false);
      expect(allows(deployer, action, logstoreArn(AUTO_PROJECT, 'audit-logs')), action).toBe(false);
    }
    expect(allows(deployer, 'log:CreateProject', `acs:log:${region}:${ACCOUNT_ID}:project/another-teams-project`)).toBe(false);
  });
});

describe('every policy in deploy/ram/', () => {
  it.each(policyFiles)('%s is a valid allow-only policy without log:* or a service-wide wildcard', (file) => {
    const policy = readPolicy(file);
    expect(policy.Version).toBe('1');
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe('Allow');
      for (const action of asList(statement.Action)) {
        expect(action).not.toBe('log:*');
        expect(action).not.toBe('*');
      }
    }
  });

  it('the matcher itself tells a grant from none (the checks can fail)', () => {
    const sample: Policy = { Version: '1', Statement: [{ Effect: 'Allow', Action: ['fc:Get*'], Resource: 'acs:fc:cn-shanghai:*:functions/a' }] };
    expect(allows([sample], 'fc:GetFunction', 'acs:fc:cn-shanghai:1:functions/a')).toBe(true);
    expect(allows([sample], 'fc:getfunction', 'acs:fc:cn-shanghai:1:functions/a')).toBe(true);
    expect(allows([sample], 'fc:GetFunction', 'acs:fc:cn-shanghai:1:functions/ab')).toBe(false);
    expect(allows([sample], 'fc:UpdateFunction', 'acs:fc:cn-shanghai:1:functions/a')).toBe(false);
  });
});
