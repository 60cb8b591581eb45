import { MissingCredentialsError } from './errors';


export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** `context.credentials` as FC passes it: the role's STS triple, or `{}` when the function has no role. */
export interface FcCredentials {
  accessKeyId?: string;
  accessKeySecret?: string;
  securityToken?: string;
}

/**
 * The function's RAM role first (FC refreshes it, so it is read on every
 * invocation), then the ALIBABA_CLOUD_* variables. A half-set pair counts as none:
 * signing with a missing secret would only earn an upstream refusal.
 */
export function resolveCredentials(fromContext: FcCredentials | undefined, fromEnvironment: FcCredentials): Credentials {
  if (fromContext?.accessKeyId && fromContext.accessKeySecret) {
    return {
      accessKeyId: fromContext.accessKeyId,
      accessKeySecret: fromContext.accessKeySecret,
      securityToken: fromContext.securityToken || undefined,
    };
  }
  if (fromEnvironment.accessKeyId && fromEnvironment.accessKeySecret) {
    return { accessKeyId: fromEnvironment.accessKeyId, accessKeySecret: fromEnvironment.accessKeySecret, securityToken: fromEnvironment.securityToken };
  }
  throw new MissingCredentialsError();
}
