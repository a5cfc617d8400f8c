/**
 * GraphQL of the ID.me plugin. A signed-in user starts an authorization for themselves and
 * completes it with the code and state ID.me sent back; they read their own verification, and
 * admins read anyone's and follow `idmeVerified`.
 */
import {
  type Builder,
  codedError,
  forbidden,
  type PluginRuntime,
  type Session,
  signedInUser,
} from '../../gateway/sdk.ts';
import { GROUP_SCOPES, type GroupScope, type IdmeConfig } from './config.ts';
import { IdmeError } from './relying-party.ts';
import type { GroupStatus, IdmeService, Verification } from './service.ts';
import { IDME_VERIFIED, type IdmeVerifiedEvent } from './topics.ts';

/** The caller themselves, or an admin. */
const mayRead = (session: Session, userId: string) => {
  if (session.role !== 'admin' && session.userId !== userId)
    throw forbidden("Only admins may read another user's ID.me verification");
};

/** IdmeErrors keep their code (retryable ones say so); the gateway answers input errors itself. */
export function asGraphQLError(error: unknown): unknown {
  if (error instanceof IdmeError)
    return codedError(error.code, error.message, error.retryable ? { retryable: true } : {});
  return error;
}

async function coded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asGraphQLError(error);
  }
}

export function addIdmeSchema(builder: Builder, runtime: PluginRuntime<IdmeConfig>, service: () => IdmeService): void {
  const GroupEnum = builder.enumType('IdmeGroup', {
    description: 'ID.me verification groups; each is a scope of its own.',
    values: Object.fromEntries(GROUP_SCOPES.map((scope) => [scope.toUpperCase(), { value: scope }])) as Record<
      Uppercase<GroupScope>,
      { value: GroupScope }
    >,
  });

  const AuthorizationType = builder
    .objectRef<{ url: string; state: string; expiresAt: Date }>('IdmeAuthorization')
    .implement({
      fields: (t) => ({
        url: t.exposeString('url', { description: "Send the user's browser here." }),
        state: t.exposeString('state', { description: 'Comes back with the code; pass both to verifyIdme.' }),
        expiresAt: t.field({ type: 'DateTime', resolve: (a) => a.expiresAt }),
      }),
    });

  const GroupStatusType = builder.objectRef<GroupStatus>('IdmeGroupStatus').implement({
    fields: (t) => ({
      group: t.exposeString('group', {
        description: 'military, veteran, responder, government, teacher, student, nurse, …',
      }),
      verified: t.exposeBoolean('verified'),
      subgroups: t.exposeStringList('subgroups'),
      verifiedAt: t.field({ type: 'DateTime', nullable: true, resolve: (g) => g.verifiedAt }),
    }),
  });

  const BadgeType = builder.objectRef<Verification['badges'][number]>('IdmeBadge').implement({
    fields: (t) => ({
      group: t.exposeString('group'),
      badge: t.exposeString('badge'),
      issuedAt: t.field({ type: 'DateTime', resolve: (b) => b.issuedAt }),
    }),
  });

  const AttributeType = builder.objectRef<Verification['attributes'][number]>('IdmeAttribute').implement({
    fields: (t) => ({
      handle: t.exposeString('handle'),
      name: t.exposeString('name'),
      value: t.exposeString('value', { nullable: true }),
    }),
  });

  const VerificationType = builder.objectRef<Verification>('IdmeVerification').implement({
    fields: (t) => ({
      userId: t.exposeID('user_id'),
      subject: t.exposeString('subject', { description: "The user's ID.me subject identifier." }),
      verified: t.boolean({
        description: 'ID.me confirmed every group asked for, and the verification has not expired.',
        resolve: (v) => v.verified && !(v.expires_at && v.expires_at.getTime() <= Date.now()),
      }),
      verifiedAt: t.field({ type: 'DateTime', nullable: true, resolve: (v) => v.verified_at }),
      expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (v) => v.expires_at }),
      scopes: t.exposeStringList('scopes'),
      groups: t.field({ type: [GroupStatusType], resolve: (v) => v.groups }),
      badges: t.field({ type: [BadgeType], resolve: (v) => v.badges }),
      attributes: t.field({ type: [AttributeType], resolve: (v) => v.attributes }),
      email: t.exposeString('email', { nullable: true }),
      givenName: t.exposeString('given_name', { nullable: true }),
      familyName: t.exposeString('family_name', { nullable: true }),
      updatedAt: t.field({ type: 'DateTime', resolve: (v) => v.updated_at }),
    }),
  });

  const VerifiedEventType = builder.objectRef<IdmeVerifiedEvent>('IdmeVerifiedEvent').implement({
    fields: (t) => ({
      userId: t.exposeID('userId'),
      verified: t.exposeBoolean('verified'),
      groups: t.exposeStringList('groups', { description: 'Groups ID.me confirmed.' }),
      at: t.field({ type: 'DateTime', resolve: (e) => new Date(e.at) }),
    }),
  });

  builder.queryFields((t) => ({
    idmeVerification: t.field({
      type: VerificationType,
      nullable: true,
      description: "A user's ID.me verification (their own, or anyone's for admins); null if they never verified.",
      authScopes: { loggedIn: true, admin: true },
      args: { userId: t.arg.id({ required: true }) },
      resolve: async (_root, args, context) => {
        mayRead(context.session, String(args.userId));
        return (await service().verifications([String(args.userId)]))[0] ?? null;
      },
    }),
    idmeGroups: t.field({
      type: [GroupStatusType],
      description: "A user's ID.me groups as ID.me reported them (verified or not).",
      authScopes: { loggedIn: true, admin: true },
      args: { userId: t.arg.id({ required: true }) },
      resolve: async (_root, args, context) => {
        mayRead(context.session, String(args.userId));
        return (await service().verifications([String(args.userId)]))[0]?.groups ?? [];
      },
    }),
  }));

  builder.mutationFields((t) => ({
    idmeAuthorizationUrl: t.field({
      type: AuthorizationType,
      description:
        'Starts ID.me verification for the signed-in user: the URL to send them to, asking the configured scopes plus these groups. The state is single-use and expires (IDME_STATE_TTL).',
      authScopes: { loggedIn: true },
      args: { groups: t.arg({ type: [GroupEnum] }) },
      resolve: (_root, args, context) =>
        coded(() => service().authorizationUrl(signedInUser(context.session), args.groups ?? [])),
    }),
    verifyIdme: t.field({
      type: VerificationType,
      description:
        'Completes ID.me verification with the code and state ID.me sent back (and its iss parameter, if any). Only the user who started it may complete it; a state presented by another user is refused (IDME_STATE_INVALID) and spent.',
      authScopes: { loggedIn: true },
      args: { code: t.arg.string({ required: true }), state: t.arg.string({ required: true }), iss: t.arg.string() },
      resolve: (_root, args, context) =>
        coded(() =>
          service().verify(
            { code: args.code, state: args.state, iss: args.iss ?? null },
            signedInUser(context.session),
          ),
        ),
    }),
  }));

  builder.subscriptionFields((t) => ({
    idmeVerified: t.field({
      type: VerifiedEventType,
      description: 'Verifications as they are stored (admins).',
      authScopes: { admin: true },
      subscribe: () => runtime.pubsub.subscribe(IDME_VERIFIED),
      resolve: (event) => event,
    }),
  }));
}
