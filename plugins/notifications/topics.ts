/** What travels on the pubsub: an in-app notification, on its recipient's channel (id = user id). */
import { topic } from '../../gateway/sdk.ts';

export interface InAppNotification {
  id: string;
  userId: string;
  category: string;
  subject: string | null;
  body: string;
  createdAt: string;
}

export const NOTIFICATION_ADDED = topic<InAppNotification>('notifications:added');
