/**
 * The plugin registry: every plugin the gateway knows, in order. Adding a plugin is adding its
 * folder and one line here.
 */
import type { Plugin } from '../gateway/sdk.ts';
import core from './core/index.ts';
import files from './files/index.ts';
import github from './github/index.ts';
import idme from './idme/index.ts';
import jobs from './jobs/index.ts';
import realtime from './realtime/index.ts';
import shopify from './shopify/index.ts';
import notifications from './notifications/index.ts';
import stripe from './stripe/index.ts';

export const registry: readonly Plugin[] = [core, jobs, realtime, notifications, stripe, github, shopify, idme, files];
