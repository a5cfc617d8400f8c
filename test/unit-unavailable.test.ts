/** Which failures of Postgres or Redis a client is told to retry (503 SERVICE_UNAVAILABLE), and with what message. */
import { expect, test } from 'vitest';
import { isUnavailable, unavailableMessage } from '../gateway/errors.ts';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });
const DOWN = 'A service the gateway depends on is unavailable; retry later.';

test.each([
  ['a refused connection', withCode('ECONNREFUSED'), DOWN],
  ['a server shutting down (57P01)', withCode('57P01'), DOWN],
  ['a server starting up (57P03)', withCode('57P03'), DOWN],
  ['too many connections (53300)', withCode('53300'), DOWN],
  ['a connection cut', new Error('Connection terminated unexpectedly'), DOWN],
  [
    'a read-only database (25006)',
    withCode('25006'),
    'The database is read-only now and takes no writes; retry later.',
  ],
  ['a full disk (53100)', withCode('53100'), 'The database is out of disk space and takes no writes; retry later.'],
])('%s is unavailable, told as such', (_case, error, message) => {
  expect(isUnavailable(error)).toBe(true);
  expect(unavailableMessage(error)).toBe(message);
});

test.each([
  ['a unique violation (23505)', withCode('23505')],
  ['a bad value (22P02)', withCode('22P02')],
  ['a missing table (42P01)', withCode('42P01')],
  ['a plain error', new Error('boom')],
  ['a string', 'ECONNREFUSED'],
])('%s is not unavailable', (_case, error) => {
  expect(isUnavailable(error)).toBe(false);
});
