/** What travels on the pubsub: a stored ID.me verification, for admins following them. */
import { topic } from '../../gateway/sdk.ts';

export interface IdmeVerifiedEvent {
  userId: string;
  verified: boolean;
  /** Groups ID.me confirmed. */
  groups: string[];
  at: string;
}

export const IDME_VERIFIED = topic<IdmeVerifiedEvent>('idme:verified');
