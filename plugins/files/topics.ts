/** What travels on the pubsub: a file whose processing ended (or that was deleted). */
import { topic } from '../../gateway/sdk.ts';

export interface FileProcessedEvent {
  id: string;
  ownerId: string;
  status: 'ready' | 'failed' | 'infected' | 'pending_scan' | 'deleted';
}

export const FILE_PROCESSED = topic<FileProcessedEvent>('files:processed');
